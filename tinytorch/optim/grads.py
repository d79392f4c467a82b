"""What a `.grad` may hold, checked where gradients are used (optimizer steps, clipping), not on every assignment.

`.grad` stays a plain attribute (a property would cost every backward and every `zero_grad`). As in
PyTorch a Tensor may be assigned: its data is taken. A wrong shape or a non-numeric value is an error
naming the parameter, raised before anything is updated.
"""

from __future__ import annotations

import numpy as np

from ..core.tensor import Tensor
from ..core.validation import describe


def checked_grad(grad, p, i: int, where: str) -> np.ndarray:
    """`grad` as a writable ndarray of `p`'s shape and float dtype (the slow path: conversions and errors)."""
    try:
        arr = grad.data if isinstance(grad, Tensor) else np.asarray(grad)
    except ValueError:  # ragged nested lists
        arr = None
    if arr is None or arr.dtype.kind not in "fiu":
        raise TypeError(f"{where}: parameter {i} has a grad that is not a numeric array or Tensor: {describe(grad)}")
    if arr.shape != p.data.shape:
        raise ValueError(f"{where}: parameter {i} has grad of shape {arr.shape}, expected {p.data.shape}")
    if arr.dtype != p.data.dtype and p.data.dtype.kind == "f":
        return arr.astype(p.data.dtype)
    return arr if arr.flags.writeable else arr.copy()  # clipping and scaling edit gradients in place


def parameter_list(params, where: str) -> list:
    """The Tensors of a module (its `parameters()`) or of an iterable, as a list; anything else is a TypeError."""
    try:
        params = list(params.parameters() if hasattr(params, "parameters") else params)
    except TypeError:
        raise TypeError(f"{where}: params must be a module or an iterable of Tensors, got {describe(params)}") from None
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{where}: every parameter must be a Tensor, got {describe(p)}")
    return params


def checked_grads(params, where: str) -> list:
    """Each parameter's gradient (None where it has none), every one a writable ndarray of its shape and dtype.

    A gradient that needed converting (a Tensor, a list, another dtype) is stored back in `.grad`,
    so in-place edits of the returned arrays are edits of `.grad`.
    """
    grads = []
    for i, p in enumerate(params):
        g = p.grad
        if g is not None and not (type(g) is np.ndarray and g.shape == p.data.shape and g.dtype == p.data.dtype
                                  and g.flags.writeable):
            g = p.grad = checked_grad(g, p, i, where)
        grads.append(g)
    return grads
