"""Layer normalization over the last axis as one fused op, run a block of rows at a time.

Each block of rows (`blocks.row_blocks`, about 128 KiB) goes through every pass of the forward or
backward while it is still in cache; a whole (B*T, C) activation is larger than a core's L2 cache
at the sizes users train, so pass by pass over the whole array would read main memory each time.
The formulas plainly: `reference.layer_norm` and `reference.layer_norm_backward`.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from .blocks import BLOCK_ELEMENTS, row_blocks
from .sums import mean_last, sum_leading


class LayerNorm(Function):
    """(x - mean) / sqrt(var + eps) * gamma + beta over the last axis; keeps x_hat and 1/std for backward."""

    def forward(self, x, gamma, beta, eps=1e-5):
        if x.dtype.kind != "f":  # integers and bools compute in float64, as numpy's own math functions do
            x = x.astype(np.float64)
        self.shape, self.gamma = x.shape, gamma
        if x.size <= BLOCK_ELEMENTS:  # one block: the whole array, its buffers made by the numpy calls
            self.x_hat, self.inv_std, out = _normalize(x, gamma, beta, eps)  # (..., C), (..., 1), (..., C)
            return out
        x2 = np.ascontiguousarray(x).reshape(-1, x.shape[-1])  # (N, C)
        out = np.empty(x2.shape, dtype=x.dtype)
        self.x_hat = np.empty(x2.shape, dtype=x.dtype)  # (N, C)
        self.inv_std = np.empty((x2.shape[0], 1), dtype=x.dtype)  # (N, 1)
        for rows in row_blocks(*x2.shape):
            self.inv_std[rows] = _normalize(x2[rows], gamma, beta, eps, self.x_hat[rows], out[rows])[1]
        return out.reshape(self.shape)

    def backward(self, grad):
        need_x, need_gamma, need_beta = self.needs_input_grad
        g2 = np.ascontiguousarray(grad).reshape(self.x_hat.shape)  # (N, C)
        gx = np.empty(g2.shape, dtype=self.x_hat.dtype) if need_x else None
        ggamma = gbeta = None
        blocks = [slice(None)] if g2.size <= BLOCK_ELEMENTS else row_blocks(*g2.shape)
        for rows in blocks:
            x_hat, g = self.x_hat[rows], g2[rows]
            tmp = g * x_hat  # (n, C)
            if need_gamma:
                ggamma = _add(ggamma, sum_leading(tmp))
            if need_beta:
                gbeta = _add(gbeta, sum_leading(g))
            if need_x:
                _input_grad(g, x_hat, self.inv_std[rows], self.gamma, tmp, gx[rows])
        return (None if gx is None else gx.reshape(self.shape)), ggamma, gbeta


def _add(total, part):
    """A running sum over blocks of rows (the first block's sum as it is)."""
    if total is None:
        return part
    total += part
    return total


def _normalize(x, gamma, beta, eps, x_hat=None, out=None) -> tuple:
    """One block of rows (..., C) -> (x_hat, 1/std (..., 1), x_hat * gamma + beta), into `x_hat` and `out` if given."""
    x_hat = np.subtract(x, mean_last(x), out=x_hat)  # centred
    out = np.multiply(x_hat, x_hat, out=out)  # the squares, in `out` until the output overwrites them
    var = mean_last(out)  # (..., 1)
    var += eps
    inv_std = 1.0 / np.sqrt(var)
    x_hat *= inv_std
    np.multiply(x_hat, gamma, out=out)
    out += beta
    return x_hat, inv_std, out


def _input_grad(grad, x_hat, inv_std, gamma, tmp, gx) -> None:
    """One block of rows: gx = inv_std * (gxhat - mean(gxhat) - x_hat * mean(gxhat * x_hat)), gxhat = grad * gamma.

    mean(gxhat * x_hat) = (grad * x_hat) . gamma / C reuses tmp = grad * x_hat: a product, not another pass.
    tmp is overwritten.
    """
    np.multiply(grad, gamma, out=gx)
    row_mean = (tmp @ gamma)[..., None]  # (n, 1)
    row_mean *= 1.0 / gx.shape[-1]
    np.multiply(x_hat, row_mean, out=tmp)
    gx -= mean_last(gx)
    gx -= tmp
    gx *= inv_std
