"""Fused neural-network ops: softmax, log-softmax, cross-entropy, embedding, dropout (layer norm: normalization.py).

Each is one Function with a hand-derived backward, which is both faster and numerically safer
than composing it from elementwise ops.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function, floating
from .sums import sum_last


def _sum_keepdims(x: np.ndarray, axis: int) -> np.ndarray:
    """x.sum(axis, keepdims=True) of a float array, through BLAS when it is the last axis."""
    return sum_last(x) if axis in (-1, x.ndim - 1) else x.sum(axis=axis, keepdims=True)


def softmax_array(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along `axis`, shifted by the max so large values cannot overflow."""
    e = np.exp(x - x.max(axis=axis, keepdims=True, initial=-np.inf))  # initial: an empty axis is no error
    e /= _sum_keepdims(e, axis)
    return e


def log_softmax_array(x: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
    return shifted - np.log(_sum_keepdims(np.exp(shifted), axis))


class Softmax(Function):
    def forward(self, x, dim=-1):
        self.dim = dim
        self.out = softmax_array(floating(x), dim)
        return self.out

    def backward(self, grad):
        y = self.out
        return y * (grad - (grad * y).sum(axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    def forward(self, x, dim=-1):
        self.dim = dim
        self.out = log_softmax_array(floating(x), dim)
        return self.out

    def backward(self, grad):
        return grad - np.exp(self.out) * grad.sum(axis=self.dim, keepdims=True)


class CrossEntropy(Function):
    """Mean (or summed) negative log-likelihood of integer targets under softmax(logits).

    logits (..., C) with targets of shape (N,) = the leading dims flattened; positions whose target
    equals `ignore_index` count for nothing, and the mean is over the others (NaN when none is left,
    with zero gradients, as in PyTorch).
    """

    def forward(self, logits, targets=None, ignore_index=None, reduction="mean"):
        self.shape = logits.shape
        logits = logits.reshape(-1, logits.shape[-1])  # (N, C)
        n = logits.shape[0]
        self.rows = rows = np.arange(n)
        log_probs = log_softmax_array(logits, axis=-1)
        if ignore_index is None:
            self.keep, self.targets = None, targets
            picked, count = log_probs[rows, targets], n
        else:
            self.keep = keep = targets != ignore_index
            self.targets = np.where(keep, targets, 0)
            picked, count = log_probs[rows, self.targets] * keep, int(keep.sum())
        self.log_probs = log_probs
        if reduction == "none":
            self.scale = None
            return (-picked).astype(logits.dtype)
        if reduction == "mean" and count == 0:  # every target ignored: a mean over nothing is NaN, as in PyTorch
            self.scale = 0.0  # and nothing receives a gradient
            return np.asarray(np.nan, dtype=logits.dtype)
        self.scale = 1.0 if reduction == "sum" else 1.0 / count
        return np.asarray(-picked.sum() * self.scale, dtype=logits.dtype)

    def backward(self, grad):
        probs = np.exp(self.log_probs)  # (N, C): softmax - one_hot(target), times the upstream factor
        probs[self.rows, self.targets] -= 1.0
        factor = grad[:, None] if self.scale is None else grad * self.scale
        if self.keep is not None:
            factor = factor * self.keep[:, None]
        probs *= factor
        return probs.reshape(self.shape)


_ONE_HOT_LIMIT = 1 << 18  # one-hot matrices up to this many entries (1 MiB of float32)


def scatter_rows(ids: np.ndarray, values: np.ndarray, num_rows: int) -> np.ndarray:
    """(num_rows, D) table whose row r sums values[i] over all i with ids[i] == r (a lookup's gradient).

    A small vocabulary uses a one-hot matmul (one BLAS call); a large one sorts the ids and sums
    each run of equal ids with `np.add.reduceat`. Both are several times faster than `np.add.at`.
    """
    n = ids.size
    if num_rows * n <= _ONE_HOT_LIMIT:
        one_hot = np.zeros((num_rows, n), dtype=values.dtype)
        one_hot[ids, np.arange(n)] = 1
        return one_hot @ values
    table = np.zeros((num_rows, values.shape[1]), dtype=values.dtype)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_ids[1:] != sorted_ids[:-1])))
    table[sorted_ids[starts]] = np.add.reduceat(values[order], starts, axis=0)
    return table


class EmbeddingBackward(Function):
    """Rows of the table picked by integer ids; backward sums the gradient rows of each id.

    Named as TinyTorch names the embedding's backward node (its tests check the name).
    """

    def forward(self, weight, ids=None):
        self.ids, self.num_rows = ids, weight.shape[0]
        return weight[ids]

    def backward(self, grad):
        d = grad.shape[-1]
        return scatter_rows(self.ids.reshape(-1), grad.reshape(-1, d), self.num_rows)


class TokenPositionEmbedding(Function):
    """GPT's input in one op: tokens[ids] + positions[start : start + T] for ids (B, T) -> (B, T, D)."""

    def forward(self, tokens, positions, ids=None, start=0):
        self.ids, self.start, self.rows = ids, start, (tokens.shape[0], positions.shape[0])
        out = tokens[ids]  # (B, T, D), a fresh array
        out += positions[start : start + ids.shape[-1]]
        return out

    def backward(self, grad):
        b, t, d = grad.shape
        gtok = scatter_rows(self.ids.reshape(-1), grad.reshape(-1, d), self.rows[0]) if self.needs_input_grad[0] else None
        gpos = None
        if self.needs_input_grad[1]:  # every sequence uses the same positions: sum over the batch
            gpos = np.zeros((self.rows[1], d), dtype=grad.dtype)
            gpos[self.start : self.start + t] = grad.sum(axis=0)  # (T, D)
        return gtok, gpos


class Dropout(Function):
    """Zero each value with probability p and scale survivors by 1/(1-p) (inverted dropout)."""

    def forward(self, x, p=0.5, rng=None):
        self.mask = (rng.random(x.shape) >= p).astype(x.dtype) / (1.0 - p)
        return x * self.mask

    def backward(self, grad):
        return grad * self.mask
