"""Gradient clipping by global norm: rescale all gradients together when their norm is too large."""

from __future__ import annotations

import math

import numpy as np


def clip_grad_norm(params, max_norm: float, eps: float = 1e-6) -> float:
    """Scale every `.grad` by max_norm / total_norm if the global L2 norm exceeds `max_norm`.

    Returns the total norm before clipping (useful to log: spikes show instability).
    """
    params = list(params.parameters() if hasattr(params, "parameters") else params)
    grads = [p.grad for p in params if p.grad is not None]
    if max_norm <= 0:
        raise ValueError(f"clip_grad_norm: max_norm must be positive, got {max_norm}")
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    if total > max_norm:
        scale = max_norm / (total + eps)
        for p in params:
            if p.grad is not None:
                p.grad = p.grad * np.asarray(scale, dtype=p.grad.dtype)
    return total
