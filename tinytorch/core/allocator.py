"""Keep freed memory for reuse (glibc): training frees and re-allocates the same large arrays every step."""

# By default glibc returns freed memory at the top of its heap to the kernel and serves big arrays with
# fresh mmaps, so every training step page-faults its activations in again (on the medium benchmark model
# that was about a third of the step's CPU time). The first backward() raises the two thresholds once;
# set `enabled = False` before it to keep glibc's defaults. A no-op elsewhere.

from __future__ import annotations

import ctypes
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
TRIM_THRESHOLD = 256 << 20  # keep up to 256 MiB of freed memory at the top of the heap
MMAP_THRESHOLD = 32 << 20  # arrays under 32 MiB come from the heap (glibc's largest allowed value)

enabled = True
_applied: bool | None = None  # None: not tried yet; then whether glibc accepted the settings


def keep_freed_memory() -> bool:
    """Apply the settings once per process (when `enabled`); True if the C library accepted them."""
    global _applied
    if _applied is None and enabled:
        _applied = False
        if sys.platform.startswith("linux"):
            try:
                mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
            except (OSError, AttributeError):  # pragma: no cover - a libc without mallopt
                return False
            mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
            _applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return bool(_applied)
