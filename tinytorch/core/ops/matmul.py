"""Matrix products: batched, broadcasting matmul, and the fused affine map x @ W + b of Linear."""

from __future__ import annotations

import numpy as np

from ..autograd import Function, unbroadcast
from .sums import sum_leading


def check_matmul_shapes(op: str, a_shape: tuple, b_shape: tuple) -> None:
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(f"{op}: matmul needs at least 1-D operands, got shapes {a_shape} and {b_shape}")
    inner_a = a_shape[-1]
    inner_b = b_shape[-2] if len(b_shape) > 1 else b_shape[0]
    if inner_a != inner_b:
        raise ValueError(
            f"{op}: shapes {a_shape} and {b_shape} do not match for matmul ({inner_a} != {inner_b})"
        )


class MatMul(Function):
    def forward(self, a, b):
        check_matmul_shapes("matmul", a.shape, b.shape)
        self.a, self.b = a, b
        return a @ b

    def backward(self, grad):
        a, b = self.a, self.b
        # Treat 1-D operands as matrices so one rule covers every case.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad
        # b's axis first: for vector @ vector the 0-d grad becomes (1,), then (1, 1).
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = unbroadcast(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Function):
    """y = x @ W + b for x (..., in), W (in, out), b (out,), as one op with one backward."""

    def forward(self, x, weight, bias=None):
        if x.ndim == 0:
            raise ValueError(f"Linear: expected input of shape (..., {weight.shape[0]}), got a 0-d tensor")
        if x.shape[-1] != weight.shape[0]:
            raise ValueError(
                f"Linear: input feature size {x.shape[-1]} does not match weight shape {weight.shape} "
                f"(input shape {x.shape})"
            )
        self.x, self.weight = x, weight
        # One 2-D product instead of a batch of small ones: BLAS is several times faster at it.
        out = x.reshape(-1, x.shape[-1]) @ weight  # (N, out)
        if bias is not None:
            out += bias
        return out.reshape(x.shape[:-1] + (weight.shape[1],))

    def backward(self, grad):
        x, weight = self.x, self.weight
        g2 = grad.reshape(-1, grad.shape[-1])  # (N, out)
        gx = (g2 @ weight.T).reshape(x.shape) if self.needs_input_grad[0] else None
        gw = x.reshape(-1, x.shape[-1]).T @ g2 if self.needs_input_grad[1] else None
        if len(self.needs_input_grad) == 3:
            gb = sum_leading(g2) if self.needs_input_grad[2] else None
            return gx, gw, gb
        return gx, gw
