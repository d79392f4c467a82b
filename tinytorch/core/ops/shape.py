"""Ops that move values without changing them: reshape, transpose, permute, indexing, concat, stack."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..checks import check_axis, check_int


class Reshape(Function):
    def forward(self, a, shape=()):
        self.in_shape = a.shape
        for size in shape:
            check_int(size, "shape", "reshape", minimum=-1)
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {a.shape} ({a.size} elements) into {tuple(shape)}"
            ) from None

    def backward(self, grad):
        return grad.reshape(self.in_shape)


class Transpose(Function):
    def forward(self, a, dim0=-2, dim1=-1):
        self.dims = (check_axis(dim0, a.ndim, "transpose", "dim0"), check_axis(dim1, a.ndim, "transpose", "dim1"))
        return np.swapaxes(a, *self.dims)

    def backward(self, grad):
        return np.swapaxes(grad, *self.dims)


class Permute(Function):
    def forward(self, a, dims=()):
        dims = tuple(check_axis(d, a.ndim, "permute", "dims") for d in dims)
        if sorted(dims) != list(range(a.ndim)):
            raise ValueError(f"permute: {tuple(dims)} is not a permutation of the {a.ndim} axes of shape {a.shape}")
        self.dims = dims
        return np.transpose(a, dims)

    def backward(self, grad):
        return np.transpose(grad, np.argsort([d % grad.ndim for d in self.dims]))


def _is_basic_index(index) -> bool:
    """True when the index only slices (no integer arrays), so no element can repeat."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) for p in parts)


class GetItem(Function):
    """Indexing and slicing; with integer arrays, repeated indices accumulate their gradients."""

    def forward(self, a, index=None):
        self.shape, self.dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, grad):
        full = np.zeros(self.shape, dtype=grad.dtype)
        if _is_basic_index(self.index):
            full[self.index] = grad
        else:
            np.add.at(full, self.index, grad)
        return full


class Concatenate(Function):
    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.splits = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    def backward(self, grad):
        return tuple(np.split(grad, self.splits, axis=self.axis))


class Stack(Function):
    def forward(self, *arrays, axis=0):
        self.axis = axis
        return np.stack(arrays, axis=axis)

    def backward(self, grad):
        return tuple(np.moveaxis(grad, self.axis, 0))
