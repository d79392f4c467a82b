"""Reductions over axes: sum, mean, max and variance, with `axis` and `keepdims` like numpy.

PyTorch's spellings `dim`/`keepdim` are accepted too (`resolve_axis`), and `max(dim=)` /
`min(dim=)` return the values and their indices as torch does (`ValuesIndices`).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..checks import check_axis, check_bool, check_int

#: What `x.max(dim=...)` and `x.min(dim=...)` return, like torch's `torch.return_types.max`.
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def resolve_axis(where: str, axis, keepdims, dim, keepdim) -> tuple:
    """numpy's `(axis, keepdims)` from either spelling; PyTorch's `dim`/`keepdim` replace them, never join them."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{where}: give axis= or dim=, not both (got axis={axis!r}, dim={dim!r})")
        axis = dim
    if keepdim is not None:
        if keepdims:
            raise TypeError(f"{where}: give keepdims= or keepdim=, not both (got keepdims={keepdims!r}, "
                            f"keepdim={keepdim!r})")
        keepdims = keepdim
    return axis, check_bool(keepdims, "keepdim" if keepdim is not None else "keepdims", where)


def _normalize_axes(axis, ndim: int, where: str) -> tuple:
    """The reduced axes, sorted and non-negative; a 0-d tensor accepts axis 0 or -1, as in PyTorch."""
    if axis is None:
        return tuple(range(ndim))
    axes = check_axis(axis, max(ndim, 1), where)
    axes = (axes,) if isinstance(axes, int) else axes
    return tuple(sorted(axes)) if ndim else ()


def _expand(grad: np.ndarray, axes: tuple, keepdims: bool, shape: tuple) -> np.ndarray:
    """Put the reduced axes back (as size 1) so `grad` broadcasts against the input shape."""
    if not keepdims:
        grad = np.expand_dims(grad, axes) if axes else grad
    return grad


class Sum(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.shape = a.shape
        self.axes = _normalize_axes(axis, a.ndim, "sum")
        self.keepdims = keepdims
        return np.sum(a, axis=self.axes, keepdims=keepdims)

    def backward(self, grad):
        return np.broadcast_to(_expand(grad, self.axes, self.keepdims, self.shape), self.shape)


class Mean(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.shape = a.shape
        self.axes = _normalize_axes(axis, a.ndim, "mean")
        self.keepdims = keepdims
        self.count = int(np.prod([a.shape[i] for i in self.axes])) if a.ndim else 1
        return np.mean(a, axis=self.axes, keepdims=keepdims)

    def backward(self, grad):
        g = _expand(grad, self.axes, self.keepdims, self.shape) / self.count
        return np.broadcast_to(g, self.shape)


class Max(Function):
    """Maximum over axes; ties share the gradient equally (like torch.amax)."""

    def forward(self, a, axis=None, keepdims=False):
        self.axes = _normalize_axes(axis, a.ndim, "max")
        self.keepdims = keepdims
        out = np.max(a, axis=self.axes, keepdims=True)
        self.a, self.out_kept = a, out
        return out if keepdims else np.squeeze(out, axis=self.axes)

    def backward(self, grad):
        winners = (self.a == self.out_kept).astype(self.a.dtype)  # not bool: bool / int would be float64
        share = winners / winners.sum(axis=self.axes, keepdims=True)
        return _expand(grad, self.axes, self.keepdims, self.a.shape) * share


class Var(Function):
    """Variance with `ddof` (0: population, as LayerNorm uses; 1: unbiased, torch's default)."""

    def forward(self, a, axis=None, keepdims=False, ddof=0):
        self.axes = _normalize_axes(axis, a.ndim, "var")
        check_int(ddof, "ddof", "var", minimum=0)
        self.keepdims = keepdims
        count = int(np.prod([a.shape[i] for i in self.axes])) if a.ndim else 1
        if count - ddof <= 0:
            raise ValueError(f"var: {count} values are too few for ddof={ddof}")
        self.centered = a - a.mean(axis=self.axes, keepdims=True)
        self.denominator = count - ddof
        return np.sum(self.centered**2, axis=self.axes, keepdims=keepdims) / self.denominator

    def backward(self, grad):
        g = _expand(grad, self.axes, self.keepdims, self.centered.shape)
        return g * (2.0 / self.denominator) * self.centered


def extreme_indices(data: np.ndarray, axis, keepdims: bool, largest: bool, where: str, name: str) -> np.ndarray:
    """int64 positions of the largest (or smallest) entries along one axis, the first on ties; flat when axis is None."""
    if axis is not None:
        if isinstance(axis, (tuple, list)) or data.ndim == 0:
            raise TypeError(f"{where}: {name} must be one int and the tensor at least 1-d, "
                            f"got {name}={axis!r} for shape {data.shape}")
        axis = check_axis(axis, data.ndim, where, name)
    if data.size == 0 or (axis is not None and data.shape[axis] == 0):
        raise ValueError(f"{where}: cannot reduce over an empty axis (shape {data.shape}, {name}={axis!r})")
    pick = np.argmax if largest else np.argmin
    return np.asarray(pick(data, axis=axis, keepdims=keepdims), dtype=np.int64)
