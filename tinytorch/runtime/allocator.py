"""Keep freed memory for reuse (glibc): an explicit, process-wide setting for programs that own their process.

The library never calls this; the `tinytorch` command and the benchmark scripts call it once at start.
"""

# By default glibc returns freed memory at the top of its heap to the kernel and serves big arrays with
# fresh mmaps, so every training step page-faults its activations in again. Raising the two thresholds
# makes freed arrays available for the next step's allocations. It changes malloc for the whole process
# (every library in it), which is why only a program's entry point may decide it. Measured on the medium
# training step (benchmarks/bench_allocator.py, 1 thread, 2-core AMD EPYC): 9,507 minor page faults per
# step -> 0, CPU time 121.9 -> 98.7 ms (1.24x); details in BENCHMARKS.md, section "Structure changes".
# A no-op off glibc.

from __future__ import annotations

import ctypes
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
TRIM_THRESHOLD = 256 << 20  # keep up to 256 MiB of freed memory at the top of the heap
MMAP_THRESHOLD = 32 << 20  # arrays under 32 MiB come from the heap (glibc's largest allowed value)


def keep_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds for this process; True if the C library accepted both.

    Call it at the start of a program that owns its process (a CLI, a benchmark, a training script):
    on the medium training step it saves ~9,500 page faults and ~20 % of the CPU time per step.
    Calling it again is harmless. Returns False off Linux or with a C library without `mallopt`.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError):  # pragma: no cover - a libc without mallopt
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
