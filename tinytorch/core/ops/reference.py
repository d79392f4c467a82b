"""The textbook formulas behind the fused and blocked kernels, a few lines each, to read and to test against.

The kernels compute the same values in a faster order: attention by blocks of queries with its softmax
shifted by the score against key 0 (the one explanation is `causal_attention.LARGEST_SUM`), GELU and
LayerNorm slice by slice in cache (`blocks.py`). Here there is no layout, no blocking, no reuse of
buffers: the math as a book writes it. Tests check that each kernel agrees with its formula in float64.
"""

from __future__ import annotations

import math

import numpy as np


def softmax(s: np.ndarray) -> np.ndarray:
    """exp(s - max) / sum over the last axis."""
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention(q, k, v, allowed=None, scale=None) -> tuple[np.ndarray, np.ndarray]:
    """softmax(q k^T * scale, blocked scores -inf) v -> (output (..., Tq, dv), weights P (..., Tq, Tk)).

    `scale` defaults to 1 / sqrt(d); every query needs at least one allowed key."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if allowed is not None:
        s = np.where(allowed, s, -np.inf)
    p = softmax(s)
    return p @ v, p


def attention_backward(grad, q, k, v, p, scale=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dQ, dK, dV of attention's output given its gradient dO and the weights P.

    dV = P^T dO; dP = dO V^T; dS = P * (dP - sum_k P dP) (softmax's Jacobian); dQ = dS K s; dK = dS^T Q s."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    dp = grad @ np.swapaxes(v, -1, -2)
    ds = p * (dp - (p * dp).sum(axis=-1, keepdims=True))
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, np.swapaxes(p, -1, -2) @ grad


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """GPT-2's GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def gelu_tanh_grad(x: np.ndarray) -> np.ndarray:
    """d gelu_tanh / dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2), t the tanh above."""
    c = math.sqrt(2 / math.pi)
    t = np.tanh(c * (x + 0.044715 * x**3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * c * (1 + 3 * 0.044715 * x**2)


def layer_norm(x, gamma, beta, eps: float = 1e-5) -> np.ndarray:
    """(x - mean) / sqrt(var + eps) * gamma + beta over the last axis (the biased variance)."""
    mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def layer_norm_backward(grad, x, gamma, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dx, dgamma, dbeta of layer_norm given dY.

    With x_hat the normalized x and g = dY gamma: dx = (g - mean(g) - x_hat mean(g x_hat)) / sqrt(var + eps)."""
    std = np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    x_hat = (x - x.mean(axis=-1, keepdims=True)) / std
    g = grad * gamma
    dx = (g - g.mean(axis=-1, keepdims=True) - x_hat * (g * x_hat).mean(axis=-1, keepdims=True)) / std
    leading = tuple(range(x.ndim - 1))
    return dx, (grad * x_hat).sum(axis=leading), grad.sum(axis=leading)
