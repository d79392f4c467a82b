"""`tinytorch doctor` with no arguments: is this machine ready (python, packages, BLAS and its threads)?

Each check is one line: what was found, and what to do when it is missing or slow.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time

MIN_PYTHON = (3, 10)
REQUIRED = ("numpy", "safetensors", "tqdm", "matplotlib", "threadpoolctl")  # pyproject.toml's dependencies
OPTIONAL = {  # package -> what it adds, and how to install it
    "torch": "the PyTorch parity tests and benchmark comparisons: python3 -m pip install torch==2.13.0",
    "transformers": "Hugging Face GPT-2 checks: python3 -m pip install -e '.[hf]'",
}
SMOKE_STEPS = 20


def _version(name: str) -> str | None:
    """The installed version of package `name` (imported, so a broken install shows), or None."""
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    return str(getattr(module, "__version__", "installed"))


def check_python(add) -> None:
    ok = sys.version_info[:2] >= MIN_PYTHON
    add(ok, "1. Python", f"{platform.python_version()} ({sys.executable})"
        + ("" if ok else f"; tinytorch needs {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer"))


def check_packages(add) -> None:
    for name in REQUIRED:
        version = _version(name)
        add(version is not None, f"2. {name}", version or "NOT installed: python3 -m pip install -e .")
    for name, purpose in OPTIONAL.items():
        version = _version(name)
        add(True, f"2. {name} (optional)", version or f"not installed; adds {purpose}")


def check_blas(add) -> None:
    """The BLAS library numpy calls, its kernel, and how tinytorch will set its threads."""
    from ..bench.common import blas_kernel
    from ..runtime.threads import ENV_VARS, get_num_threads, policy

    kernel = blas_kernel()
    add("threadpoolctl not installed" not in kernel and kernel != "none found", "3. BLAS", kernel)
    pinned = {name: os.environ[name] for name in ENV_VARS if name in os.environ}
    p = policy()
    time.sleep(0.2)  # one interval for the measurement of other processes' load
    cores = p.monitor.cores
    if p.requested is not None or pinned:
        how = f"fixed by you ({', '.join(f'{k}={v}' for k, v in pinned.items()) or '--threads or set_num_threads'})"
    else:
        how = "chosen by tinytorch per step: one for small models, more for large ones on free cores"
    p.monitor.free_cores()  # measures the load of the interval just slept
    add(True, "3. Threads", f"{how}; large work would use {get_num_threads()} now "
        f"({cores} usable core(s), other processes busy on {p.monitor.other_busy or 0.0:.1f} of them; "
        f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())})")


def check_training_step(add) -> None:
    """A few steps of the smallest GPT: the time one takes here, and the threads BLAS used for it."""
    from ..bench.workloads import TINY, tinytorch_step
    from ..runtime.threads import threads_in_use

    step = tinytorch_step(TINY)
    step()
    start = time.perf_counter()
    for _ in range(SMOKE_STEPS):
        loss = step()
    per_step = (time.perf_counter() - start) / SMOKE_STEPS
    ok = loss == loss and loss < float("inf")
    add(ok, "4. Training step", f"{per_step * 1e3:.1f} ms per step of the test plan's tiny GPT "
        f"({TINY.describe()}) on {threads_in_use()} BLAS thread(s); loss {loss:.3f}")


def check_environment(add) -> None:
    """Every environment check, each reported through `add(ok, name, measured)`."""
    for check in (check_python, check_packages, check_blas, check_training_step):
        check(add)
