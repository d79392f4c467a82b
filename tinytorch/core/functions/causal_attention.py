"""Causal self-attention by blocks of queries: only the score tiles on or below the diagonal are computed.

Query block [r0, r1) can only see keys [0, r1), so its scores are one (r1, n) tile and its softmax
is exact without any running maximum. With blocks of 32 a length-128 sequence computes 10 of the
16 tiles (the full matrix would be 16), in the forward and in the backward pass.

The scores are held transposed, (keys, queries), so the softmax's max and sum run down columns:
numpy vectorises a reduction across contiguous rows but not along short ones, and a sum down the
columns is one BLAS product with a vector of ones.
"""

from __future__ import annotations

import numpy as np

from .sums import sum_columns, sum_last

BLOCK = 32  # queries per block: 16, 32 and 64 measured alike at T=128; 32 skips more of the masked half


def worth_blocking(t: int) -> bool:
    """Whether T queries are enough for the blocks to pay off: at 2 blocks or fewer (T = 63, 64) the
    saved tiles do not cover the extra calls, and the dense path is as fast or faster (measured)."""
    return t > 2 * BLOCK


_diagonal_masks: dict = {}


def _diagonal_mask(n: int, dtype) -> np.ndarray:
    """(n, n) additive mask of a diagonal tile, (keys, queries): a huge negative where key > query."""
    key = (n, np.dtype(dtype))
    mask = _diagonal_masks.get(key)
    if mask is None:
        blocked = np.tril(np.ones((n, n), dtype=bool), k=-1)
        mask = _diagonal_masks[key] = np.where(blocked, np.finfo(dtype).min / 2, 0).astype(dtype)
        mask.setflags(write=False)
    return mask


def _blocks(t: int, block: int):
    """(r0, r1) of each block of queries."""
    return [(r0, min(t, r0 + block)) for r0 in range(0, t, block)]


def causal_forward(qs: np.ndarray, k: np.ndarray, v: np.ndarray, out: np.ndarray, block: int = BLOCK) -> list:
    """Write softmax(qs k^T, causal) v into `out` (..., T, dv); return each block's (..., r1, n) weights^T.

    `qs` is q already multiplied by the attention scale. q, k, v should be contiguous: BLAS runs
    the small tiles about twice as fast then.
    """
    t = qs.shape[-2]
    weights_t = []
    for r0, r1 in _blocks(t, block):
        st = k[..., :r1, :] @ np.swapaxes(qs[..., r0:r1, :], -1, -2)  # (..., r1, n) scores, transposed
        st[..., r0:r1, :] += _diagonal_mask(r1 - r0, st.dtype)
        st -= st.max(axis=-2, keepdims=True)
        np.exp(st, out=st)
        st /= sum_columns(st)[..., None, :]  # each query's column sums to 1
        np.matmul(np.swapaxes(st, -1, -2), v[..., :r1, :], out=out[..., r0:r1, :])
        weights_t.append(st)
    return weights_t


def _accumulate(total: np.ndarray, part: np.ndarray, r0: int, r1: int) -> None:
    """total[..., :r1, :] gets part added on rows before r0 (earlier blocks wrote them) and set on [r0, r1)."""
    total[..., :r0, :] += part[..., :r0, :]
    total[..., r0:r1, :] = part[..., r0:r1, :]


def causal_backward(grad, qs, k, v, out, weights_t, scale: float, gq, gk, gv, block: int = BLOCK) -> None:
    """Gradients of causal_forward's output with respect to q (unscaled), k and v, written into gq, gk, gv.

    Softmax backward needs sum_k P_ik dP_ik per query, which equals dO_i . O_i (as O = P V).
    Blocked scores have weight exactly 0, so their gradient is 0 without any masking.
    """
    row_dot = sum_last(grad * out)[..., 0]  # (..., T): dO_i . O_i
    for (r0, r1), pt in zip(_blocks(qs.shape[-2], block), weights_t):
        g = grad[..., r0:r1, :]  # (..., n, dv)
        _accumulate(gv, pt @ g, r0, r1)  # dV = P^T dO
        dst = v[..., :r1, :] @ np.swapaxes(g, -1, -2)  # dP^T (..., r1, n)
        dst -= row_dot[..., None, r0:r1]
        dst *= pt  # dS^T
        np.matmul(np.swapaxes(dst, -1, -2), k[..., :r1, :], out=gq[..., r0:r1, :])
        _accumulate(gk, dst @ qs[..., r0:r1, :], r0, r1)  # dK = dS^T (q * scale)
    gq *= scale  # dQ = dS K * scale, scaled once on the small array instead of on every score


def dense_weights(weights_t: list, block: int = BLOCK) -> np.ndarray:
    """The (..., T, T) attention probabilities from causal_forward's blocks (zeros above the diagonal)."""
    last = weights_t[-1]
    t = last.shape[-2]
    dense = np.zeros(last.shape[:-2] + (t, t), dtype=last.dtype)
    for (r0, r1), pt in zip(_blocks(t, block), weights_t):
        dense[..., r0:r1, :r1] = np.swapaxes(pt, -1, -2)
    return dense
