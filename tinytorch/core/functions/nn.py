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
    """(x - mean) / sqrt(var + eps) * gamma + beta over the last axis."""

    def forward(self, x, gamma, beta, eps=1e-5):
        mean = x.mean(axis=-1, keepdims=True)
        centered = x - mean
        var = np.mean(centered * centered, axis=-1, keepdims=True)
        self.inv_std = 1.0 / np.sqrt(var + eps)  # (..., 1)
        self.x_hat = centered * self.inv_std  # (..., C)
        self.gamma = gamma
        return self.x_hat * gamma + beta

    def backward(self, grad):
        x_hat, inv_std = self.x_hat, self.inv_std
        g2 = grad.reshape(-1, grad.shape[-1])
        ggamma = (g2 * x_hat.reshape(g2.shape)).sum(axis=0) if self.needs_input_grad[1] else None
        gbeta = g2.sum(axis=0) if self.needs_input_grad[2] else None
        gx = None
        if self.needs_input_grad[0]:
            gxhat = grad * self.gamma
            # d x = inv_std * (gxhat - mean(gxhat) - x_hat * mean(gxhat * x_hat))
            gx = inv_std * (
                gxhat
                - gxhat.mean(axis=-1, keepdims=True)
                - x_hat * (gxhat * x_hat).mean(axis=-1, keepdims=True)
            )
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
