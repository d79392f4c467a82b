"""Anomaly detection: `detect_anomaly()` makes the first op whose output or gradient holds NaN/Inf raise.

The checks run on ops that record a graph (inside `no_grad()` nothing is checked) and cost nothing when off.
"""

from __future__ import annotations

import contextlib

import numpy as np

from .grad_mode import _state

__all__ = ["AnomalyError", "detect_anomaly", "is_anomaly_enabled", "check_forward", "check_backward"]


class AnomalyError(FloatingPointError):
    """An op produced NaN or Inf while anomaly detection was on; names the op and its input shapes."""

    def __init__(self, message: str, op: str, phase: str, input_shapes: list):
        super().__init__(message)
        self.op, self.phase, self.input_shapes = op, phase, input_shapes


def is_anomaly_enabled() -> bool:
    """True inside `detect_anomaly()` (per thread)."""
    return getattr(_state, "anomaly", False)


@contextlib.contextmanager
def detect_anomaly(enabled: bool = True):
    """Within this context (this thread only), NaN/Inf in an op's output or gradient raises AnomalyError."""
    previous = is_anomaly_enabled()
    _state.anomaly = bool(enabled)
    try:
        yield
    finally:
        _state.anomaly = previous


def _bad_kind(arr) -> str | None:
    """'NaN', 'Inf' or None for a finite (or non-float) array."""
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fc" or np.isfinite(arr).all():
        return None
    return "NaN" if np.isnan(arr).any() else "Inf"


def _describe_inputs(fn) -> tuple[list, str]:
    """(input shapes, a note naming inputs that were already non-finite)."""
    inputs = getattr(fn, "inputs", ())
    shapes = [tuple(t.shape) for t in inputs]
    already = [f"input {i} already held {kind}" for i, t in enumerate(inputs) if (kind := _bad_kind(t.data))]
    note = f" ({'; '.join(already)})" if already else " (from finite inputs)"
    return shapes, note


def check_forward(fn, out_data) -> None:
    """Raise AnomalyError if op `fn` produced NaN/Inf in its forward output."""
    kind = _bad_kind(out_data)
    if kind is None:
        return
    op = type(fn).__name__
    shapes, note = _describe_inputs(fn)
    raise AnomalyError(f"detect_anomaly: {op}.forward produced {kind} in its output of shape "
                       f"{tuple(np.shape(out_data))}; input shapes {shapes}{note}", op, "forward", shapes)


def check_backward(fn, grads) -> None:
    """Raise AnomalyError if op `fn`'s backward returned a NaN/Inf gradient for an input that needs one."""
    needs = getattr(fn, "needs_input_grad", [True] * len(grads))
    for i, (g, need) in enumerate(zip(grads, needs)):
        if g is None or not need:
            continue
        kind = _bad_kind(g)
        if kind is None:
            continue
        op = type(fn).__name__
        shapes, _ = _describe_inputs(fn)
        raise AnomalyError(f"detect_anomaly: {op}.backward produced {kind} in the gradient of input {i} "
                           f"(shape {tuple(np.shape(g))}); input shapes {shapes}", op, "backward", shapes)
