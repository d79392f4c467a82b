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


def attend(q, k, v, allowed, scale: float):
    """softmax(q k^T * scale, where allowed) v -> (output (..., Tq, dv), weights (..., Tq, Tk))."""
    scores = q @ np.swapaxes(k, -1, -2)  # (..., Tq, Tk)
    scores *= scale
    if allowed is not None:
        # A large negative, not -inf: a fully blocked row then stays finite (uniform) instead of NaN.
        scores = np.where(allowed, scores, np.finfo(scores.dtype).min / 2)
    weights = softmax_array(scores, axis=-1)
    return weights @ v, weights


def scores_grad(grad, weights, v, scale: float, allowed=None):
    """Gradient of the (scaled) scores given the output gradient: through P @ V and the softmax.

    Blocked scores are constants, so their gradient is zero. In a partly blocked row their weight
    is already exactly 0; a fully blocked row has uniform weights, and without the mask here
    its (nonzero) softmax gradient would leak into Q and K although the output ignores them.
    """
    gp = grad @ np.swapaxes(v, -1, -2)  # (..., Tq, Tk)
    gs = weights * (gp - (gp * weights).sum(axis=-1, keepdims=True))
    gs *= scale
    if allowed is not None:
        gs *= allowed
    return gs


class ScaledDotProductAttention(Function):
    """Q (..., Tq, d), K (..., Tk, d), V (..., Tk, dv) -> (..., Tq, dv); keeps the weights for backward."""

    def forward(self, q, k, v, allowed=None):
        self.scale = 1.0 / math.sqrt(q.shape[-1])
        self.q, self.k, self.v, self.allowed = q, k, v, allowed
        out, self.weights = attend(q, k, v, allowed, self.scale)
        return out

    def backward(self, grad):
        p, q, k, v = self.weights, self.q, self.k, self.v
        gv = unbroadcast(np.swapaxes(p, -1, -2) @ grad, v.shape) if self.needs_input_grad[2] else None
        gs = scores_grad(grad, p, v, self.scale, self.allowed)
        gq = unbroadcast(gs @ k, q.shape) if self.needs_input_grad[0] else None
        gk = unbroadcast(np.swapaxes(gs, -1, -2) @ q, k.shape) if self.needs_input_grad[1] else None
        return gq, gk, gv


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """(B, T, C) -> (B, H, T, C/H)."""
    b, t, c = x.shape
    return x.reshape(b, t, num_heads, c // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(B, H, T, hd) -> (B, T, H*hd)."""
    b, h, t, hd = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, t, h * hd)


class SelfAttentionHeads(Function):
    """Multi-head self-attention before the output projection, fused into one op.

    x (B, T, C) is projected to Q, K, V with one (C, 3C) matmul, split into H heads, attended
    (softmax(Q K^T / sqrt(hd)) V, all heads batched) and merged back to (B, T, C).
    """

    def forward(self, x, wq, bq, wk, bk, wv, bv, num_heads=1, allowed=None):
        b, t, c = x.shape
        h = num_heads
        self.shape, self.num_heads = (b, t, c), h
        self.scale = 1.0 / math.sqrt(c // h)
        self.x2d = x.reshape(b * t, c)
        self.w = np.concatenate((wq, wk, wv), axis=1)  # (C, 3C)
        qkv = self.x2d @ self.w  # (B*T, 3C)
        qkv += np.concatenate((bq, bk, bv))
        qkv = qkv.reshape(b, t, 3, h, c // h).transpose(2, 0, 3, 1, 4)  # (3, B, H, T, hd)
        self.q, self.k, self.v = q, k, v = qkv[0], qkv[1], qkv[2]
        self.allowed = allowed
        out, self.weights = attend(q, k, v, allowed, self.scale)  # (B, H, T, hd)
        return merge_heads(out)  # (B, T, C)

    def backward(self, grad):
        b, t, c = self.shape
        p, q, k, v = self.weights, self.q, self.k, self.v
        g = split_heads(grad, self.num_heads)  # (B, H, T, hd)
        gv = p.transpose(0, 1, 3, 2) @ g
        gs = scores_grad(g, p, v, self.scale, self.allowed)  # (B, H, T, T)
        gq = gs @ k
        gk = gs.transpose(0, 1, 3, 2) @ q
        # (3, B, H, T, hd) -> (B*T, 3C), the layout of the fused projection's output
        gqkv = np.stack((gq, gk, gv)).transpose(1, 3, 0, 2, 4).reshape(b * t, 3 * c)
        gx = (gqkv @ self.w.T).reshape(b, t, c) if self.needs_input_grad[0] else None
        gw = self.x2d.T @ gqkv  # (C, 3C)
        gb = gqkv.sum(axis=0)  # (3C,)
        return (gx, gw[:, :c], gb[:c], gw[:, c : 2 * c], gb[c : 2 * c], gw[:, 2 * c :], gb[2 * c :])
