"""Cache blocking for chains of elementwise numpy calls.

A numpy call reads and writes whole arrays. When a chain of calls (GELU is eight) runs over arrays
larger than the core's L2 cache, every call streams its operands from main memory. Running the whole
chain on one slice at a time, small enough that its operands stay in cache, turns those passes into
cache hits: on a 4 MiB activation this measured 1.7x to 4x faster per call, while a numpy call costs
about a microsecond more per slice, which slices of 32K elements make negligible.
"""

from __future__ import annotations

import numpy as np

BLOCK_ELEMENTS = 1 << 15  # 32K elements: 128 KiB of float32, a few operands of it fit in any L2


def flat_blocks(size: int, block: int = BLOCK_ELEMENTS) -> list:
    """Slices [lo, hi) covering range(size) in pieces of `block` elements (the last may be shorter)."""
    return [slice(lo, min(size, lo + block)) for lo in range(0, size, block)]


def row_blocks(rows: int, row_len: int, block: int = BLOCK_ELEMENTS) -> list:
    """Slices of whole rows, each about `block` elements (at least one row), covering range(rows)."""
    step = max(1, block // max(1, row_len))
    return [slice(lo, min(rows, lo + step)) for lo in range(0, rows, step)]


def in_blocks(fn, *arrays: np.ndarray) -> None:
    """fn(*slices) on matching 1-D slices of `arrays` (same shape, C-contiguous), `BLOCK_ELEMENTS` at a time.

    Arrays of one block, of different shapes (a broadcast) or not C-contiguous get one call on the
    whole arrays instead: nothing is ever copied, so `fn` may write into any of them.
    """
    first = arrays[0]
    if first.size <= BLOCK_ELEMENTS or not all(a.shape == first.shape and a.flags.c_contiguous for a in arrays):
        fn(*arrays)
        return
    flats = [a.reshape(-1) for a in arrays]  # views: every array is C-contiguous
    for s in flat_blocks(first.size):
        fn(*(f[s] for f in flats))
