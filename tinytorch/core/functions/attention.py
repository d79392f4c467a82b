"""Scaled dot-product attention as one fused op: softmax(Q K^T / sqrt(d) + mask) V.

Mask convention: True/1 means "may attend", False/0 means "blocked".
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function, unbroadcast
from .nn import softmax_array

_causal_cache: dict = {}


def causal_allowed(t_q: int, t_k: int) -> np.ndarray:
    """(t_q, t_k) bool: query i may see keys up to i + (t_k - t_q) (the last queries align with the last keys)."""
    key = (t_q, t_k)
    mask = _causal_cache.get(key)
    if mask is None:
        mask = np.tril(np.ones((t_q, t_k), dtype=bool), k=t_k - t_q)
        mask.setflags(write=False)
        _causal_cache[key] = mask
    return mask


class ScaledDotProductAttention(Function):
    """Q (..., Tq, d), K (..., Tk, d), V (..., Tk, dv) -> (..., Tq, dv); keeps the weights for backward."""

    def forward(self, q, k, v, allowed=None):
        self.scale = 1.0 / math.sqrt(q.shape[-1])
        scores = q @ np.swapaxes(k, -1, -2)  # (..., Tq, Tk)
        scores *= self.scale
        if allowed is not None:
            # A large negative, not -inf: a fully blocked row then stays finite (uniform) instead of NaN.
            scores = np.where(allowed, scores, np.finfo(scores.dtype).min / 2)
        self.weights = softmax_array(scores, axis=-1)
        self.q, self.k, self.v = q, k, v
        return self.weights @ v

    def backward(self, grad):
        p, q, k, v = self.weights, self.q, self.k, self.v
        gv = unbroadcast(np.swapaxes(p, -1, -2) @ grad, v.shape) if self.needs_input_grad[2] else None
        gp = grad @ np.swapaxes(v, -1, -2)  # (..., Tq, Tk)
        gs = p * (gp - (gp * p).sum(axis=-1, keepdims=True))
        gs *= self.scale
        gq = unbroadcast(gs @ k, q.shape) if self.needs_input_grad[0] else None
        gk = unbroadcast(np.swapaxes(gs, -1, -2) @ q, k.shape) if self.needs_input_grad[1] else None
        return gq, gk, gv
