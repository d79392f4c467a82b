"""Causal self-attention by blocks of queries: only the score tiles on or below the diagonal are computed.

Query block [r0, r1) can only see keys [0, r1), so its scores are one (r1, n) tile and its softmax
is exact without any running maximum. With blocks of 32 a length-128 sequence computes 10 of the
16 tiles (the full matrix would be 16), in the forward and in the backward pass.

The scores are held transposed, (keys, queries), so the softmax's sum runs down columns (one BLAS
product with a vector of ones) and its shift is a contiguous row (see LARGEST_SUM). Each tile keeps
exp(scores - shift) unnormalized, with 1 / (each query's sum) on the side: the output and the
gradients are scaled on their small (n, head) rows instead of dividing every weight.
For short contexts the tiles are kept for backward (`keeps_tiles`); beyond, as flash attention does,
backward computes each tile again from q, k and the kept shift (..., T): memory stays linear in T.
The same math without the layout: `reference.attention` and `reference.attention_backward`.
"""

from __future__ import annotations

import numpy as np

from .sums import dot_last, sum_columns, sum_last

BLOCK = 32  # queries per block: 16, 32 and 64 measured alike at T=128; 32 skips more of the masked half

# Softmax is unchanged by subtracting any one number per query from its scores; the usual choice is
# the query's maximum, a reduction per query. These kernels subtract the query's score against
# key 0 instead, which every query may see (causal, or no mask): no reduction, and it depends on
# nothing but the query and key 0, so later tokens cannot change earlier outputs even by rounding.
# Every sum then holds exp(0) = 1, so nothing that matters can underflow; a query whose best score
# lies more than 80 above its key-0 score would overflow, and its block is redone with each query's
# maximum (such a sum exceeds LARGEST_SUM first).
LARGEST_SUM = float(np.exp(80.0))


# The tiles hold T / 2 numbers per query and head; q, k and v, kept for backward anyway, hold 3 head
# sizes. Up to T = 32 head sizes (1024 for heads of 32) the tiles are kept, at most about 5x q, k, v
# together; beyond, backward recomputes them (one more product and exp per tile) and attention's
# memory grows only linearly in T, flat at a fixed number of tokens per step.
KEEP_TILES_PER_HEAD_DIM = 32


def keeps_tiles(t: int, head_dim: int) -> bool:
    """Whether causal_forward keeps its T queries' score tiles for backward (else backward recomputes them)."""
    return t <= KEEP_TILES_PER_HEAD_DIM * head_dim


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


def exp_shifted(scores, key_axis: int, by_max: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """exp(s - shift) in place on the fresh array `scores()` returns, its sums and the shift (kept dims).

    The shift is each query's score against key 0 (see LARGEST_SUM), or its maximum when `by_max`
    or where the key-0 shift would overflow (the scores are then computed again). Shared by the
    blockwise kernel (keys on axis -2) and the dense path (keys on axis -1).
    """
    s = scores()
    if by_max:  # every exponent is <= 0: nothing can overflow, nothing to check
        shift = s.max(axis=key_axis, keepdims=True)
        s -= shift
        np.exp(s, out=s)
        return s, _key_sums(s, key_axis), shift
    shift = (s[..., :1, :] if key_axis == -2 else s[..., :1]).copy()  # each query's score against key 0
    s -= shift
    with np.errstate(over="ignore"):  # an overflow here, in exp or in its sums, is caught just below and redone
        np.exp(s, out=s)
        sums = _key_sums(s, key_axis)
    if sums.max() > LARGEST_SUM:  # (a NaN compares False: no reason to redo)
        return exp_shifted(scores, key_axis, by_max=True)
    return s, sums, shift


def _key_sums(e: np.ndarray, key_axis: int) -> np.ndarray:
    """The sums over the keys of exp'd scores, with kept dims."""
    return sum_columns(e)[..., None, :] if key_axis == -2 else sum_last(e)


def transposed(x: np.ndarray) -> np.ndarray:
    """x (..., T, d) as a C-contiguous (..., d, T) copy. The tile products multiply by a block of its
    columns, which BLAS runs about 1.6x faster than the same numbers as a transposed view of x's rows
    (measured at T=128, head size 32); the copy is one pass over q or the output gradient per call."""
    return np.ascontiguousarray(x.swapaxes(-1, -2))


def _tile_scores(k_rows, q_cols, r0: int, r1: int):
    """A function making one block's scores, transposed (..., r1, n), masked on its diagonal part.
    `q_cols` is the block's queries as columns (..., d, n)."""
    def scores():
        st = k_rows @ q_cols
        st[..., r0:r1, :] += _diagonal_mask(r1 - r0, st.dtype)
        return st
    return scores


def causal_forward(qs: np.ndarray, k: np.ndarray, v: np.ndarray, out: np.ndarray, block: int = BLOCK):
    """Write softmax(qs k^T, causal) v into `out` (..., T, dv); return the weights for backward.

    The weights are (tiles, shift, inv): each block's unnormalized exp(scores - shift)^T (..., r1, n)
    when `keeps_tiles` (else None: backward recomputes them), each query's shift and 1 / its
    sum (..., T). `qs` is q already multiplied by the attention scale. q, k, v should be contiguous:
    BLAS runs the small tiles about twice as fast then.
    """
    t = qs.shape[-2]
    tiles = [] if keeps_tiles(t, qs.shape[-1]) else None
    qs_t = transposed(qs)  # (..., d, T)
    inv = np.empty(qs.shape[:-1], dtype=out.dtype)  # (..., T)
    shift = np.empty(qs.shape[:-1], dtype=out.dtype)  # (..., T)
    for r0, r1 in _blocks(t, block):
        et, sums, tile_shift = _exp_tile(k, qs_t, r0, r1)  # (..., r1, n), (..., 1, n), (..., 1, n)
        shift[..., r0:r1] = tile_shift[..., 0, :]
        np.divide(1.0, sums[..., 0, :], out=inv[..., r0:r1])
        rows = out[..., r0:r1, :]
        np.matmul(et.swapaxes(-1, -2), v[..., :r1, :], out=rows)
        rows *= inv[..., r0:r1, None]  # each query's weights sum to 1
        if tiles is not None:
            tiles.append(et)
    return tiles, shift, inv


def _exp_tile(k, qs_t, r0: int, r1: int, shift=None):
    """Block [r0, r1)'s exp(scores - shift)^T (..., r1, n), its sums and shift; with a kept `shift`
    (..., n), the same tile again, bit for bit (the same products and passes in the same order).
    `qs_t` is the scaled queries transposed (..., d, T)."""
    scores = _tile_scores(k[..., :r1, :], qs_t[..., r0:r1], r0, r1)
    if shift is None:
        return exp_shifted(scores, key_axis=-2)
    st = scores()
    st -= shift[..., None, :]
    return np.exp(st, out=st), None, shift


def _accumulate(total: np.ndarray, part: np.ndarray, r0: int, r1: int) -> None:
    """total[..., :r1, :] gets part added on rows before r0 (earlier blocks wrote them) and set on [r0, r1)."""
    total[..., :r0, :] += part[..., :r0, :]
    total[..., r0:r1, :] = part[..., r0:r1, :]


def causal_backward(grad, qs, k, v, out, weights, gq, gk, gv, block: int = BLOCK) -> None:
    """Gradients of causal_forward's output with respect to qs (the scaled q), k and v, written into gq, gk, gv.

    With P = E / sum per query, every product with P is a product with E and dO / sum:
    dV = E (dO / sum), and softmax backward P (dP - dO . O) = E (V (dO / sum) - (dO / sum) . O).
    Blocked scores have weight exactly 0, so their gradient is 0 without any masking.
    """
    tiles, shift, inv = weights
    gn = np.multiply(grad, inv[..., None], out=np.empty(grad.shape, dtype=grad.dtype))  # (..., T, dv) contiguous
    row_dot = dot_last(gn, out)  # (..., T): (dO_i . O_i) / sum_i
    gn_t = transposed(gn)  # (..., dv, T)
    qs_t = transposed(qs) if tiles is None else None  # for the tiles computed again
    for i, (r0, r1) in enumerate(_blocks(qs.shape[-2], block)):
        et = tiles[i] if tiles is not None else _exp_tile(k, qs_t, r0, r1, shift[..., r0:r1])[0]
        g = gn[..., r0:r1, :]  # (..., n, dv)
        _accumulate(gv, et @ g, r0, r1)  # dV
        dst = v[..., :r1, :] @ gn_t[..., r0:r1]  # dP^T / sum (..., r1, n)
        dst -= row_dot[..., None, r0:r1]
        dst *= et  # dS^T
        np.matmul(dst.swapaxes(-1, -2), k[..., :r1, :], out=gq[..., r0:r1, :])
        _accumulate(gk, dst @ qs[..., r0:r1, :], r0, r1)  # dK = dS^T qs


def dense_weights(qs, k, weights, block: int = BLOCK) -> np.ndarray:
    """The (..., T, T) attention probabilities from causal_forward's inputs and weights (zeros above the diagonal)."""
    _, shift, inv = weights
    t = inv.shape[-1]
    dense = np.zeros(inv.shape + (t,), dtype=inv.dtype)
    qs_t = transposed(qs)
    for r0, r1 in _blocks(t, block):
        et = _exp_tile(k, qs_t, r0, r1, shift[..., r0:r1])[0]
        dense[..., r0:r1, :r1] = et.swapaxes(-1, -2) * inv[..., r0:r1, None]
    return dense
