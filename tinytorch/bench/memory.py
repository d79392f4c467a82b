"""Peak RSS of a fresh process running the plan's tiny training (ours and torch's), and a leak check."""

# Each measurement starts a new interpreter (`python -m tinytorch.bench.child KIND`), so the peak belongs
# to that training alone: interpreter, libraries, model, optimizer and activations. The child prints one
# JSON line; the parent parses it.

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import replace

from .common import Figure, median, torch_or_none

KINDS = ("import", "tinytorch", "torch", "leak")
# The floor: a bare interpreter with numpy imported (run with -c, so not even tinytorch is loaded).
_NUMPY_FLOOR = """
import json, resource, numpy
try:
    peak = [int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]
except (OSError, IndexError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({'kind': 'numpy', 'peak_rss_mb': peak}))
"""


def _status_mb(field: str) -> float | None:
    """A memory line of /proc/self/status (VmHWM = peak RSS, VmRSS = current RSS) in MiB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover - not Linux
        return None
    return None


def _peak_mb() -> float:
    """Peak RSS of this process in MiB.

    VmHWM first: it belongs to this program alone. ru_maxrss also counts the parent's RSS at fork
    time (Linux carries the high-water mark across exec), so it overstates a child of a big process.
    """
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # pragma: no cover - KiB, bytes on macOS
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _pin_one_thread() -> None:
    from ..runtime.threads import set_num_threads

    set_num_threads(1)  # the child owns its process


def child(kind: str, steps: int | None = None) -> dict:
    """Run one workload in this process and report its memory (called in the fresh subprocess)."""
    report = {"kind": kind}
    if kind == "import":  # tinytorch (and this module) imported, nothing run
        pass
    elif kind == "tinytorch":
        _pin_one_thread()
        from ..experiments.memorization import run_memorization
        from ..experiments.recipes import PLAN_TRAIN

        train = PLAN_TRAIN if steps is None else replace(PLAN_TRAIN, max_iters=steps)
        report["final_train_loss"] = float(run_memorization(0, train).losses[-1])
    elif kind == "torch":
        import torch

        torch.set_num_threads(1)
        from ..experiments.recipes import PLAN_TRAIN
        from .convergence import torch_memorization

        train = PLAN_TRAIN if steps is None else replace(PLAN_TRAIN, max_iters=steps)
        report["final_train_loss"] = float(torch_memorization(0, train).losses[-1])
    elif kind == "leak":  # current RSS after a warm-up and after many more steps of the tiny step
        _pin_one_thread()
        from .workloads import TINY, tinytorch_step

        step = tinytorch_step(TINY)
        for _ in range(200):
            step()
        report["rss_after_200_mb"] = _status_mb("VmRSS")
        for _ in range(steps or 2000):
            step()
        report["rss_after_more_mb"] = _status_mb("VmRSS")
        report["more_steps"] = steps or 2000
    else:
        raise ValueError(f"memory: unknown kind {kind!r}, expected one of {KINDS}")
    report["peak_rss_mb"] = _peak_mb()
    report["ru_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return report


def run_child(kind: str, steps: int | None = None, timeout: float = 300) -> dict:
    """Start a fresh interpreter for `kind` and return its JSON report."""
    if kind == "numpy":
        cmd = [sys.executable, "-c", _NUMPY_FLOOR]
    else:
        cmd = [sys.executable, "-m", "tinytorch.bench.child", kind] + ([] if steps is None else [str(steps)])
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"memory: child {kind} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_rss_mb(repeats: int = 3, steps: int | None = None, compare_torch: bool = True) -> Figure:
    """Median peak RSS (MiB) of a fresh process training the plan's tiny GPT (500 steps unless `steps`)."""
    kinds = ["tinytorch"] + (["torch"] if compare_torch and torch_or_none() is not None else [])
    samples = {k: [] for k in kinds}
    for _ in range(repeats):
        for kind in kinds:
            samples[kind].append(run_child(kind, steps)["peak_rss_mb"])
    floor = run_child("numpy")["peak_rss_mb"]
    imported = run_child("import")["peak_rss_mb"]
    theirs = median(samples["torch"]) if "torch" in samples else None
    return Figure("peak RSS, tiny training process", "MiB", median(samples["tinytorch"]), theirs,
                  higher_is_better=False, samples=samples,
                  notes=f"fresh process, plan recipe {steps or 500} steps, 1 thread; "
                        f"python+numpy alone {floor:.1f} MiB, with tinytorch imported {imported:.1f} MiB")


def rss_growth_mb(more_steps: int = 2000) -> Figure:
    """Growth of the current RSS over `more_steps` tiny steps after a 200-step warm-up (a leak check)."""
    report = run_child("leak", more_steps)
    growth = report["rss_after_more_mb"] - report["rss_after_200_mb"]
    return Figure("RSS growth over further tiny steps", "MiB", growth, higher_is_better=False,
                  notes=f"{report['rss_after_200_mb']:.1f} MiB after 200 steps, "
                        f"{report['rss_after_more_mb']:.1f} MiB after {more_steps} more")
