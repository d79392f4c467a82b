"""Attention masks in both conventions: keep/block (bool or 0/1) and additive (a float mask added to the scores).

The rule, with no ambiguity: a bool mask, or a numeric mask whose every value is 0 or 1, keeps
(True/1) or blocks (False/0) each key. Any other numeric mask is added to the scores before the
softmax, as PyTorch's float `attn_mask` is: `-1e9` or `-inf` above the diagonal is a causal mask,
other values are biases. So an all-zero float mask blocks everything (it is a 0/1 mask); write it
as bool or leave it out to mean "no mask". An integer mask holding other values is an error.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.checks import _as_array, check_mask


def additive_mask(mask, where: str) -> np.ndarray | None:
    """The mask as a float array when it is additive (holds a value other than 0 and 1), else None."""
    if mask is None:
        return None
    arr = _as_array(mask, f"{where}: mask must be boolean or 0/1, or a float mask added to the scores")
    if arr.dtype.kind != "f" or np.all((arr == 0) | (arr == 1)):
        return None
    if np.isnan(arr).any() or np.isposinf(arr).any():
        raise ValueError(f"{where}: an additive float mask must not hold NaN or +inf (use -inf or -1e9 to block)")
    return arr


def _check_bias_shape(bias: np.ndarray, scores_shape: tuple, where: str) -> None:
    try:
        ok = np.broadcast_shapes(bias.shape, scores_shape) == tuple(scores_shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{where}: mask of shape {bias.shape} does not broadcast to attention scores {scores_shape}")


def attention_with_bias(Q, K, V, bias: np.ndarray, causal: bool = False, where: str = "attention"):
    """softmax(Q K^T / sqrt(d) + bias) V with ordinary tensor ops (their gradients) -> (output, weights ndarray).

    Q (..., Tq, d), K (..., Tk, d), V (..., Tk, dv); `bias` broadcasts to (..., Tq, Tk).
    """
    scores = (Q @ K.transpose(-2, -1)) * (1.0 / math.sqrt(Q.shape[-1]))  # (..., Tq, Tk)
    _check_bias_shape(bias, scores.shape, where)
    bias = bias.astype(scores.dtype)
    if np.isposinf(bias).any():
        raise ValueError(f"{where}: an additive float mask must not hold NaN or +inf "
                         f"(a value overflows {scores.dtype} to +inf)")
    scores = scores + bias
    if causal:
        t_q, t_k = scores.shape[-2:]
        scores = scores.masked_fill(~np.tril(np.ones((t_q, t_k), dtype=bool), k=t_k - t_q), -np.inf)
    weights = scores.softmax(-1)  # (..., Tq, Tk)
    return weights @ V, weights.data.copy()


__all__ = ["additive_mask", "attention_with_bias", "check_mask"]
