"""Measurement helpers: figures, interleaved medians, thread pinning, and the BLAS kernel in use."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import time
from dataclasses import dataclass, field


@dataclass
class Figure:
    """One benchmark figure: our median, torch's median from the same run (or None), and their ratio."""

    name: str
    unit: str
    ours: float
    torch: float | None = None
    higher_is_better: bool = True
    samples: dict = field(default_factory=dict, repr=False)  # raw per-repeat values, by framework
    notes: str = ""

    @property
    def ratio(self) -> float | None:
        """ours / torch (for a rate, above 1 means we are faster; for memory or steps, below 1 means less)."""
        if self.torch is None or not self.torch:
            return None
        return self.ours / self.torch

    def line(self) -> str:
        ours = format_value(self.ours, self.unit)
        if self.torch is None:
            text = f"{self.name}: {ours}"
        else:
            better = "higher is better" if self.higher_is_better else "lower is better"
            text = (f"{self.name}: {ours}, torch {format_value(self.torch, self.unit)}, "
                    f"ratio ours/torch {self.ratio:.2f} ({better})")
        return text + (f"  [{self.notes}]" if self.notes else "")


def format_value(value, unit: str) -> str:
    if value is None:
        return f"n/a {unit}"
    if value == float("inf"):
        return f"not reached ({unit})"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}"


def median(values) -> float:
    return float(statistics.median(values))


def interleaved_seconds(fns: dict, number: int, repeats: int, warmup: int = 3) -> dict:
    """Median seconds per call of each fn, timing them in turn within every repeat.

    Alternating the frameworks repeat by repeat means a burst of load from another process on a
    shared machine hits both, so their ratio stays meaningful even when the absolute numbers move.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples[name].append((time.perf_counter() - start) / number)
    return samples


def cpu_seconds(fns: dict, number: int, rounds: int) -> dict:
    """Median CPU seconds per call of each fn; every round times each fn once, the order alternating.

    CPU time (time.process_time) is disturbed less than wall time by other processes on a shared machine."""
    samples = {name: [] for name in fns}
    names = list(fns)
    for round_ in range(rounds):
        for name in (names if round_ % 2 == 0 else names[::-1]):
            start = time.process_time()
            for _ in range(number):
                fns[name]()
            samples[name].append((time.process_time() - start) / number)
    return {name: statistics.median(values) for name, values in samples.items()}


def torch_or_none():
    """The torch module if it is installed (the comparison is optional), else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch


@contextlib.contextmanager
def thread_limit(threads: int | None):
    """Pin numpy's BLAS (tinytorch.set_num_threads) and torch to `threads` threads for the block, then hand
    both back; None leaves the choice to tinytorch (and torch) as a user gets it."""
    if threads is None:
        yield
        return
    from ..runtime.threads import num_threads

    torch = torch_or_none()
    previous = torch.get_num_threads() if torch is not None else None
    with num_threads(threads):
        if torch is not None:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(previous)


def threads_note(training: bool, torch_ran: bool = False) -> str:
    """The threads a measurement ran on, read from the libraries (never the requested label): numpy's BLAS
    via threadpoolctl (during tinytorch's last training step if `training`, else now), and torch's."""
    from ..runtime.threads import policy, threads_in_use

    blas = threads_in_use() if training else policy().blas.get()
    torch = torch_or_none() if torch_ran else None
    return f"BLAS threads in use: {blas}" + (f", torch threads: {torch.get_num_threads()}" if torch else "")


def blas_kernel() -> str:
    """The BLAS library numpy uses, as threadpoolctl reports it (kernel architecture, threads)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return "unknown (threadpoolctl not installed)"
    import numpy  # noqa: F401  (load numpy's BLAS so threadpoolctl can see it)

    parts = []
    for info in threadpool_info():
        if info.get("user_api") != "blas":
            continue
        parts.append(f"{info.get('internal_api')} {info.get('version')} kernel={info.get('architecture')} "
                     f"threads={info.get('num_threads')} ({os.path.basename(info.get('filepath', ''))})")
    return "; ".join(parts) or "none found"


def cpu_description() -> str:
    """The CPU a figure holds for: vendor, model name, family/model, max MHz when the system reports it."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if not key.strip():
                    break  # the first processor's block is enough
                fields.setdefault(key.strip(), value.strip())
    except OSError:  # not Linux: what the platform module knows
        return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    try:
        with open("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq") as f:
            max_mhz = f"max {int(f.read()) // 1000} MHz"
    except (OSError, ValueError):  # a VM often exposes no frequency limits
        max_mhz = "max MHz not reported"
    return (f"{fields.get('vendor_id', '?')} {fields.get('model name', '?')} (family {fields.get('cpu family', '?')} "
            f"model {fields.get('model', '?')}, {max_mhz}), {os.cpu_count()} CPUs")


def machine_notes() -> list[str]:
    """Lines describing where the figures came from."""
    import numpy

    torch = torch_or_none()
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                     "MKL_NUM_THREADS") if k in os.environ}
    return [
        f"date: {time.strftime('%Y-%m-%d %H:%M')}",
        f"CPU: {cpu_description()}, load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
        f"python {platform.python_version()}, numpy {numpy.__version__}, "
        f"torch {torch.__version__ if torch is not None else 'not installed'}",
        f"BLAS: {blas_kernel()}",
        f"OPENBLAS/OMP environment: {env or 'unset'}",
    ]
