"""Gradient clipping by global norm: rescale all gradients together when their norm is too large."""

from __future__ import annotations

import math

import numpy as np

from .grads import checked_grads, parameter_list
from ..core.validation import check_float


def clip_grad_norm(params, max_norm: float, eps: float = 1e-6) -> float:
    """Scale every `.grad` in place by max_norm / total_norm if the global L2 norm exceeds `max_norm`.

    Returns the total norm before clipping (useful to log: spikes show instability). As in PyTorch,
    the arrays are edited in place, so an optimizer's flat gradient buffer sees the clipping too.
    """
    max_norm = check_float(max_norm, "max_norm", "clip_grad_norm", minimum=0.0, min_inclusive=False)
    eps = check_float(eps, "eps", "clip_grad_norm", minimum=0.0)
    params = parameter_list(params, "clip_grad_norm")
    grads = [g for g in checked_grads(params, "clip_grad_norm") if g is not None]
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    if total > max_norm:
        scale = max_norm / (total + eps)
        for g in grads:
            g *= np.asarray(scale, dtype=g.dtype)
    return total
