"""Scaled dot-product attention as one fused op: softmax(Q K^T / sqrt(d) + mask) V.

Mask convention: True/1 means "may attend", False/0 means "blocked".
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function, unbroadcast
from .causal_attention import causal_backward, causal_forward, dense_weights, exp_shifted, worth_blocking
from .sums import dot_last, sum_last, sum_leading

_causal_cache: dict = {}


def attention_scale(head_dim: int) -> float:
    """1 / sqrt(head_dim) as a Python float: multiplying a float32 array by it keeps float32
    (a numpy float64 scalar such as 1 / np.sqrt(d) would promote). The one place the scale is computed."""
    return 1.0 / math.sqrt(head_dim)


def causal_allowed(t_q: int, t_k: int) -> np.ndarray:
    """(t_q, t_k) bool: query i may see keys up to i + (t_k - t_q) (the last queries align with the last keys)."""
    key = (t_q, t_k)
    masks = _causal_cache.get(key)
    if masks is None:
        allowed = np.tril(np.ones((t_q, t_k), dtype=bool), k=t_k - t_q)
        blocked = ~allowed
        for m in (allowed, blocked):
            m.setflags(write=False)
        # No query row is fully blocked when t_k >= t_q (each sees at least its own key).
        masks = _causal_cache[key] = (allowed, blocked, bool(blocked.all(axis=-1).any()))
    return masks[0]


def blocked_positions(allowed: np.ndarray) -> tuple[np.ndarray, bool]:
    """(~allowed, whether some query row is blocked everywhere); cached for the causal masks."""
    masks = _causal_masks(allowed)
    if masks is not None:
        return masks[1], masks[2]
    blocked = ~allowed
    return blocked, bool(blocked.all(axis=-1).any())


def attend(q, k, v, allowed, scale: float):
    """softmax(q k^T * scale, where allowed) v -> (output (..., Tq, dv), weights (..., Tq, Tk)).

    The (Tq, Tk) scores are computed once and turned into the weights in place. When every query
    may see key 0 (no mask, or causal), they are shifted by the score against key 0 rather than by
    each row's maximum (see `causal_attention.LARGEST_SUM`). The formula plainly: `reference.attention`.
    """
    # Scaling q is cheaper than scaling the scores; float() keeps float32 (a numpy float64 would promote).
    # A q that is already scaled comes with scale 1.
    qs = q if scale == 1 else q * float(scale)

    def scores():  # (..., Tq, Tk), blocked scores set to a large negative
        weights = qs @ k.swapaxes(-1, -2)
        if allowed is not None:
            additive = _additive_causal_mask(allowed, weights.dtype)
            if additive is not None:
                weights += additive
            else:  # A large negative, not -inf: a fully blocked row then stays finite (uniform) instead of NaN.
                np.copyto(weights, np.finfo(weights.dtype).min / 2, where=blocked_positions(allowed)[0])
        return weights

    # One query (a decoding step) has one max to take: nothing to save, and no overflow check needed.
    weights, sums, _ = exp_shifted(scores, -1, by_max=q.shape[-2] == 1 or not _key_zero_open(allowed, k.shape[-2]))
    weights /= sums
    return weights @ v, weights


def _causal_masks(allowed):
    """The cached (allowed, blocked, has an empty row) of a mask made by causal_allowed, else None."""
    masks = _causal_cache.get(allowed.shape[-2:]) if allowed is not None and allowed.ndim == 2 else None
    return masks if masks is not None and masks[0] is allowed else None


def _key_zero_open(allowed, t_k: int) -> bool:
    """Whether every query may attend to key 0."""
    if t_k == 0:
        return False
    if allowed is None:
        return True
    masks = _causal_masks(allowed)
    if masks is not None:
        return not masks[2]  # causal: every row sees key 0 unless some row is fully blocked (t_k < t_q)
    return bool(np.all(allowed[..., 0] if allowed.ndim else allowed))


_additive_masks: dict = {}


def _additive_causal_mask(allowed, dtype):
    """0 where allowed, a large negative where blocked, for a causal mask without empty rows (else None).

    Adding it is one plain pass, about twice as fast as writing through a boolean `where`; a row
    with no allowed key would need the exact constant for its uniform weights, so it gets `where`.
    """
    masks = _causal_masks(allowed)
    if masks is None or masks[2]:
        return None
    key = (allowed.shape, np.dtype(dtype))
    mask = _additive_masks.get(key)
    if mask is None:
        mask = _additive_masks[key] = np.where(masks[1], np.finfo(dtype).min / 2, 0).astype(dtype)
        mask.setflags(write=False)
    return mask


def scores_grad(grad, weights, v, out, scale: float, allowed=None):
    """Gradient of the (scaled) scores given the output gradient: through P @ V and the softmax.

    Softmax backward needs sum_k P_ik dP_ik per query, which equals dO_i . O_i (as O = P V), a sum
    over the head size instead of over all keys. Blocked scores are constants, so their gradient
    is zero. In a partly blocked row their weight is already exactly 0; a fully blocked row has
    uniform weights, and without zeroing its (nonzero) gradient would leak into Q and K although
    the output ignores them.
    """
    gs = grad @ v.swapaxes(-1, -2)  # dP (..., Tq, Tk)
    gs -= dot_last(grad, out)[..., None]
    gs *= weights
    if scale != 1:
        gs *= scale
    if allowed is not None:
        blocked, empty_rows = blocked_positions(allowed)
        if empty_rows:
            np.copyto(gs, 0, where=blocked)
    return gs


class ScaledDotProductAttention(Function):
    """Q (..., Tq, d), K (..., Tk, d), V (..., Tk, dv) -> (..., Tq, dv); keeps the weights for backward.

    With `weights_sink` (a list), a copy of the (..., Tq, Tk) weights is appended to it for inspection.
    """

    def forward(self, q, k, v, allowed=None, weights_sink=None):
        self.scale = attention_scale(q.shape[-1])
        self.q, self.k, self.v, self.allowed = q, k, v, allowed
        self.out, self.weights = attend(q, k, v, allowed, self.scale)
        if weights_sink is not None:
            weights_sink.append(self.weights.copy())
        return self.out

    def backward(self, grad):
        p, q, k, v = self.weights, self.q, self.k, self.v
        gv = unbroadcast(p.swapaxes(-1, -2) @ grad, v.shape) if self.needs_input_grad[2] else None
        gs = scores_grad(grad, p, v, self.out, self.scale, self.allowed)
        gq = unbroadcast(gs @ k, q.shape) if self.needs_input_grad[0] else None
        gk = unbroadcast(gs.swapaxes(-1, -2) @ q, k.shape) if self.needs_input_grad[1] else None
        return gq, gk, gv


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """(B, T, C) -> (B, H, T, C/H)."""
    b, t, c = x.shape
    return x.reshape(b, t, num_heads, c // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(B, H, T, hd) -> (B, T, H*hd)."""
    b, h, t, hd = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, t, h * hd)


def project_heads(x2d: np.ndarray, w: np.ndarray, bias: np.ndarray, shape: tuple, num_heads: int, contiguous: bool):
    """x (B*T, C) @ w (C, 3C) + bias -> q, k, v (B, H, T, hd) each, q multiplied by the attention scale.

    One matmul for all three; the bias is added (and, for `contiguous`, the heads copied into their own
    order for the blockwise kernel) in one pass, then q is scaled, a third of the output.
    """
    b, t, c = shape
    hd = c // num_heads
    qkv = (x2d @ w).reshape(b, t, 3, num_heads, hd)  # (B, T, 3, H, hd)
    if contiguous:
        heads = np.empty((3, b, num_heads, t, hd), dtype=np.result_type(qkv, bias))
        np.add(qkv.transpose(2, 0, 3, 1, 4), bias.reshape(3, 1, num_heads, 1, hd), out=heads)
    else:
        qkv += bias.reshape(3, num_heads, hd)
        heads = qkv.transpose(2, 0, 3, 1, 4)  # (3, B, H, T, hd) view
    heads[0] *= attention_scale(hd)
    return heads


class SelfAttentionHeads(Function):
    """Multi-head self-attention before the output projection, fused into one op.

    x (B, T, C) is projected to Q, K, V with one (C, 3C) matmul, split into H heads, attended
    (softmax(Q K^T / sqrt(hd)) V, all heads batched) and merged back to (B, T, C). `causal=True`
    without a mask runs the blockwise causal kernel when T is long enough; a mask (`allowed`) or a
    short sequence takes the dense path.
    The weights come as q, k, v's own (C, C) and (C,) arrays, for their gradients; `qkv`, the (C, 3C)
    weight and (3C,) bias they are column blocks of, when the caller stores them that way
    (MultiHeadAttention does), spares joining them. q is scaled once projected, so the scores are not.
    With `weights_sink` (a list), the (B, H, T, T) weights are appended to it for inspection.
    """

    def forward(self, x, wq, bq, wk, bk, wv, bv, num_heads=1, allowed=None, causal=False, weights_sink=None, qkv=None):
        b, t, c = x.shape
        self.shape, self.num_heads = (b, t, c), num_heads
        self.blockwise = causal and allowed is None and worth_blocking(t)
        self.scale = attention_scale(c // num_heads)
        self.x2d = x.reshape(b * t, c)
        self.w, bias = qkv if qkv is not None else (np.concatenate((wq, wk, wv), axis=1), np.concatenate((bq, bk, bv)))
        # contiguous heads for the blockwise kernel's small products
        self.q, self.k, self.v = project_heads(self.x2d, self.w, bias, (b, t, c), num_heads, self.blockwise)
        if self.blockwise:
            merged = np.empty((b, t, c), dtype=self.q.dtype)
            self.out = split_heads(merged, num_heads)  # (B, H, T, hd) view: the kernel writes into merged
            self.weights = causal_forward(self.q, self.k, self.v, self.out)
            if weights_sink is not None:
                weights_sink.append(dense_weights(self.q, self.k, self.weights))
            return merged  # (B, T, C)
        if causal:
            allowed = causal_allowed(t, t) if allowed is None else allowed & causal_allowed(t, t)
        self.allowed = allowed
        self.out, self.weights = attend(self.q, self.k, self.v, allowed, 1.0)  # (B, H, T, hd); q is scaled
        if weights_sink is not None:
            weights_sink.append(self.weights.copy())
        return merge_heads(self.out)  # (B, T, C)

    def _heads_grad(self, grad):
        """(3, B, H, T, hd) gradients of the scaled q, k and v from the merged output's gradient."""
        q, k, v = self.q, self.k, self.v
        g = split_heads(grad, self.num_heads)  # (B, H, T, hd)
        gqkv = np.empty((3,) + q.shape, dtype=grad.dtype)
        if self.blockwise:
            causal_backward(g, q, k, v, self.out, self.weights, *gqkv)
            return gqkv
        p = self.weights
        gqkv[2] = p.swapaxes(-1, -2) @ g  # dV
        gs = scores_grad(g, p, v, self.out, 1.0, self.allowed)  # (B, H, T, T)
        np.matmul(gs, k, out=gqkv[0])  # dQ
        np.matmul(gs.swapaxes(-1, -2), q, out=gqkv[1])  # dK
        return gqkv

    def backward(self, grad):
        b, t, c = self.shape
        # (B*T, 3C): the layout of the fused projection's output, from (3, B, H, T, hd)
        gqkv = self._heads_grad(grad)
        gqkv[0] *= self.scale  # back through q's scale to the projection's output
        gqkv = gqkv.transpose(1, 3, 0, 2, 4).reshape(b * t, 3 * c)
        gx = (gqkv @ self.w.T).reshape(b, t, c) if self.needs_input_grad[0] else None
        gw = self.x2d.T @ gqkv  # (C, 3C): q, k and v's gradients are its column blocks (views, no copies)
        gb = sum_leading(gqkv)  # (3C,)
        return (gx, gw[:, :c], gb[:c], gw[:, c : 2 * c], gb[c : 2 * c], gw[:, 2 * c :], gb[2 * c :])
