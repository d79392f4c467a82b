"""Fast float sums for the fused ops: products with a vector of ones, which BLAS runs several times
faster than numpy's reductions over the short rows of a small model (e.g. 3 us -> 1 us for (63, 32)).
"""

from __future__ import annotations

import numpy as np

_vectors: dict = {}


def _constant(n: int, value: float, dtype: np.dtype) -> np.ndarray:
    """A cached read-only vector of n copies of `value` (`dtype` as an array's .dtype, which is hashable)."""
    key = (n, value, dtype)
    vec = _vectors.get(key)
    if vec is None:
        vec = _vectors[key] = np.full(n, value, dtype=dtype)
        vec.setflags(write=False)
    return vec


def sum_last(x: np.ndarray) -> np.ndarray:
    """x.sum(axis=-1, keepdims=True) for a float array: (..., n) -> (..., 1)."""
    return (x @ _constant(x.shape[-1], 1.0, x.dtype))[..., None]


def sum_columns(x: np.ndarray) -> np.ndarray:
    """x.sum(axis=-2) for a float array: (..., m, n) -> (..., n), one product with a vector of ones."""
    return _constant(x.shape[-2], 1.0, x.dtype) @ x


def mean_last(x: np.ndarray) -> np.ndarray:
    """x.mean(axis=-1, keepdims=True) for a float array: a product with a vector of 1/n."""
    n = x.shape[-1]
    return (x @ _constant(n, 1.0 / n, x.dtype))[..., None]


def sum_leading(x: np.ndarray) -> np.ndarray:
    """The sum over every axis but the last: (..., n) -> (n,), as a bias gradient needs."""
    x2 = x.reshape(-1, x.shape[-1])
    return _constant(x2.shape[0], 1.0, x.dtype) @ x2


def dot_last(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a * b).sum(axis=-1) without the product array: (..., n), (..., n) -> (...)."""
    return _vecdot(a, b)


# numpy >= 2.0 has a vectorised row dot product; older numpy gets einsum (slower, still one pass).
_vecdot = getattr(np, "vecdot", None) or (lambda a, b: np.einsum("...i,...i->...", a, b))
