"""Choosing the next token from logits: greedy, temperature, top-k and top-p (nucleus) sampling."""

from __future__ import annotations

import numpy as np

from ..core.ops.nn import softmax_array
from ..core.validation import check_float, check_int


def check_sampling(temperature, top_k, top_p, where: str = "generate") -> tuple:
    """The sampling options checked once: temperature >= 0 (0 is greedy), top_k >= 1, top_p in (0, 1]."""
    temperature = check_float(temperature, "temperature", where, minimum=0)
    top_k = None if top_k is None else check_int(top_k, "top_k", where, minimum=1)
    if top_p is not None and not 0.0 < check_float(top_p, "top_p", where) <= 1.0:
        raise ValueError(f"{where}: top_p must be in (0, 1], got {top_p}")
    return temperature, top_k, None if top_p is None else float(top_p)


def filter_logits(logits: np.ndarray, top_k: int | None = None, top_p: float | None = None) -> np.ndarray:
    """Set to -inf every logit outside the top-k and outside the smallest set with probability >= top_p."""
    _, top_k, top_p = check_sampling(0.0, top_k, top_p)
    return _filter(logits, top_k, top_p)


def _filter(logits: np.ndarray, top_k: int | None, top_p: float | None) -> np.ndarray:
    """filter_logits on options already checked."""
    logits = np.array(logits, dtype=np.float64)  # (B, V)
    vocab = logits.shape[-1]
    if top_k is not None:
        if top_k < vocab:
            kth = np.partition(logits, vocab - top_k, axis=-1)[:, vocab - top_k][:, None]  # (B, 1)
            logits[logits < kth] = -np.inf
    if top_p is not None:
        order = np.argsort(-logits, axis=-1, kind="stable")  # (B, V), most likely first
        sorted_probs = np.take_along_axis(softmax_array(logits, axis=-1), order, axis=-1)
        before = np.cumsum(sorted_probs, axis=-1) - sorted_probs  # mass of the tokens ranked above
        drop_sorted = before >= top_p  # keep a token while the mass above it is still < top_p
        drop = np.zeros_like(drop_sorted)
        np.put_along_axis(drop, order, drop_sorted, axis=-1)
        logits[drop] = -np.inf
    return logits


def check_finite_logits(logits: np.ndarray) -> None:
    """ValueError unless every row holds no NaN or +inf and at least one logit above -inf."""
    # A row's max is NaN, +inf or -inf exactly when the row is bad: one reduction decides the usual case.
    if logits.shape[-1] and np.isfinite(logits.max(axis=-1)).all():
        return
    bad = np.isnan(logits) | np.isposinf(logits)  # (B, V)
    empty = np.isneginf(logits).all(axis=-1)  # (B,)
    if bad.any() or empty.any():
        row = int(np.flatnonzero(bad.any(axis=-1) | empty)[0])
        what = "NaN" if np.isnan(logits[row]).any() else "+inf" if bad[row].any() else "only -inf"
        raise ValueError(f"generate: the logits of row {row} hold {what}; no token can be sampled from them "
                         f"(does the model hold NaN/inf weights, or did its training diverge?)")


def sample_next(logits: np.ndarray, rng: np.random.Generator, temperature: float = 1.0,
                top_k: int | None = None, top_p: float | None = None) -> np.ndarray:
    """Next ids (B,) from logits (B, V). temperature 0 means greedy (argmax)."""
    return sample_checked(logits, rng, *check_sampling(temperature, top_k, top_p))


def sample_checked(logits: np.ndarray, rng: np.random.Generator, temperature: float, top_k: int | None,
                   top_p: float | None) -> np.ndarray:
    """sample_next on options already checked (by check_sampling): what generate calls once per token.

    NaN or +inf logits (a model with broken weights) are a ValueError, never a token. A temperature so
    small that logits / temperature overflows is greedy for that row: the limit of sampling as T -> 0.
    """
    logits = np.asarray(logits, dtype=np.float64)  # (B, V)
    check_finite_logits(logits)
    if temperature == 0:
        return np.argmax(logits, axis=-1)
    with np.errstate(over="ignore"):
        scaled = logits / temperature
    overflow = (np.isinf(scaled) & ~np.isinf(logits)).any(axis=-1)  # (B,)
    if overflow.all():
        return np.argmax(logits, axis=-1)
    scaled[overflow] = np.where(logits[overflow] == logits[overflow].max(axis=-1, keepdims=True), 0.0, -np.inf)
    filtered = _filter(scaled, top_k, top_p)
    probs = softmax_array(filtered, axis=-1)
    # Inverse-CDF sampling with one uniform draw per row: reproducible for a given generator state.
    cdf = np.cumsum(probs, axis=-1)
    draws = rng.random(len(probs))[:, None] * cdf[:, -1:]
    return np.minimum((cdf <= draws).sum(axis=-1), probs.shape[-1] - 1)
