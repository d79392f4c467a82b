"""Fused neural-network ops: softmax, log-softmax, layer norm, cross-entropy, embedding, dropout.

Each is one Function with a hand-derived backward, which is both faster and numerically safer
than composing it from elementwise ops.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function


def softmax_array(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along `axis`, shifted by the max so large values cannot overflow."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax_array(x: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    def forward(self, x, dim=-1):
        self.dim = dim
        self.out = softmax_array(x, dim)
        return self.out

    def backward(self, grad):
        y = self.out
        return y * (grad - (grad * y).sum(axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    def forward(self, x, dim=-1):
        self.dim = dim
        self.out = log_softmax_array(x, dim)
        return self.out

    def backward(self, grad):
        return grad - np.exp(self.out) * grad.sum(axis=self.dim, keepdims=True)


class LayerNorm(Function):
    """(x - mean) / sqrt(var + eps) * gamma + beta over the last axis (in place on two buffers)."""

    def forward(self, x, gamma, beta, eps=1e-5):
        inv_n = 1.0 / x.shape[-1]
        x_hat = x - x.sum(axis=-1, keepdims=True) * inv_n  # centred
        out = x_hat * x_hat
        var = out.sum(axis=-1, keepdims=True)
        var *= inv_n
        var += eps
        self.inv_std = inv_std = 1.0 / np.sqrt(var)  # (..., 1)
        x_hat *= inv_std
        self.x_hat, self.gamma = x_hat, gamma  # (..., C)
        np.multiply(x_hat, gamma, out=out)
        out += beta
        return out

    def backward(self, grad):
        x_hat, inv_std = self.x_hat, self.inv_std
        c = grad.shape[-1]
        g2 = grad.reshape(-1, c)
        tmp = grad * x_hat
        ggamma = tmp.reshape(-1, c).sum(axis=0) if self.needs_input_grad[1] else None
        gbeta = g2.sum(axis=0) if self.needs_input_grad[2] else None
        gx = None
        if self.needs_input_grad[0]:
            # d x = inv_std * (gxhat - mean(gxhat) - x_hat * mean(gxhat * x_hat)), gxhat = grad * gamma
            gx = grad * self.gamma
            np.multiply(gx, x_hat, out=tmp)
            mean_gx_xhat = tmp.sum(axis=-1, keepdims=True)
            mean_gx_xhat *= 1.0 / c
            np.multiply(x_hat, mean_gx_xhat, out=tmp)
            mean_gx = gx.sum(axis=-1, keepdims=True)
            mean_gx *= 1.0 / c
            gx -= mean_gx
            gx -= tmp
            gx *= inv_std
        return gx, ggamma, gbeta


class CrossEntropy(Function):
    """Mean (or summed) negative log-likelihood of integer targets under softmax(logits).

    logits (N, C), targets (N,) integers; positions whose target equals `ignore_index` count
    for nothing, and the mean is over the others.
    """

    def forward(self, logits, targets=None, ignore_index=None, reduction="mean"):
        n = logits.shape[0]
        log_probs = log_softmax_array(logits, axis=-1)
        keep = np.ones(n, dtype=bool) if ignore_index is None else targets != ignore_index
        safe_targets = np.where(keep, targets, 0)
        picked = log_probs[np.arange(n), safe_targets] * keep
        count = int(keep.sum())
        self.log_probs, self.keep, self.targets = log_probs, keep, safe_targets
        if reduction == "sum":
            self.scale = 1.0
            return np.asarray(-picked.sum(), dtype=logits.dtype)
        if reduction == "none":
            self.scale = None
            return (-picked).astype(logits.dtype)
        self.scale = 1.0 / max(count, 1)
        return np.asarray(-picked.sum() * self.scale, dtype=logits.dtype)

    def backward(self, grad):
        n = self.log_probs.shape[0]
        probs = np.exp(self.log_probs)
        probs[np.arange(n), self.targets] -= 1.0
        weight = self.keep.astype(probs.dtype)[:, None]
        if self.scale is None:
            return probs * (weight * grad[:, None])
        return probs * (weight * (grad * self.scale))


class Embedding(Function):
    """Rows of the table picked by integer ids; backward scatter-adds into the picked rows."""

    def forward(self, weight, ids=None):
        self.ids, self.table_shape = ids, weight.shape
        return weight[ids]

    def backward(self, grad):
        table = np.zeros(self.table_shape, dtype=grad.dtype)
        np.add.at(table, self.ids.reshape(-1), grad.reshape(-1, self.table_shape[1]))
        return table


class Dropout(Function):
    """Zero each value with probability p and scale survivors by 1/(1-p) (inverted dropout)."""

    def forward(self, x, p=0.5, rng=None):
        self.mask = (rng.random(x.shape) >= p).astype(x.dtype) / (1.0 - p)
        return x * self.mask

    def backward(self, grad):
        return grad * self.mask
