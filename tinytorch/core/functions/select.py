"""Choosing between values by a condition: where and masked_fill."""

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
