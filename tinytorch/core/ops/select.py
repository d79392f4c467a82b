"""Choosing values: by a condition (where, masked_fill) or by index along an axis (take_along)."""

from __future__ import annotations

import numpy as np

from ..autograd import Function, unbroadcast


class Where(Function):
    """cond ? a : b, elementwise with broadcasting; the gradient goes to the chosen side."""

    def forward(self, a, b, condition=None):
        self.condition, self.shapes = condition, (a.shape, b.shape)
        return np.where(condition, a, b)

    def backward(self, grad):
        sa, sb = self.shapes
        ga = unbroadcast(np.where(self.condition, grad, 0), sa) if self.needs_input_grad[0] else None
        gb = unbroadcast(np.where(self.condition, 0, grad), sb) if self.needs_input_grad[1] else None
        return ga, gb


class MaskedFill(Function):
    """Replace the entries where `mask` is True by `value`; they get no gradient."""

    def forward(self, a, mask=None, value=0.0):
        self.mask = np.broadcast_to(mask, a.shape)
        out = a.copy()
        out[self.mask] = value
        return out

    def backward(self, grad):
        return np.where(self.mask, 0, grad)


class TakeAlong(Function):
    """The entries at `indices` along `axis` (np.take_along_axis); each gets its gradient back in place."""

    def forward(self, a, indices=None, axis=0):
        self.shape, self.indices, self.axis = a.shape, indices, axis
        return np.take_along_axis(a, indices, axis)

    def backward(self, grad):
        full = np.zeros(self.shape, dtype=grad.dtype)
        np.put_along_axis(full, self.indices, grad, self.axis)  # one index per slice, so no sums needed
        return full
