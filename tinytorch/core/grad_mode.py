"""Grad mode: the per-thread switches every op reads (record a graph? check for NaN/Inf?).

Kept apart from the engine so that `anomaly` and `autograd` can both read them without importing
each other.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np


class _ThreadState(threading.local):
    """Per-thread switches, read on every op: graph recording (on by default) and anomaly checks (off)."""

    grad_enabled = True
    anomaly = False


_state = _ThreadState()


def is_grad_enabled() -> bool:
    """True when operations record a graph for backward."""
    return _state.grad_enabled


def _set_grad_enabled(mode: bool) -> None:
    _state.grad_enabled = bool(mode)


@contextlib.contextmanager
def no_grad():
    """Context in which no graph is built (inference, optimizer updates)."""
    previous = is_grad_enabled()
    _set_grad_enabled(False)
    try:
        yield
    finally:
        _set_grad_enabled(previous)


@contextlib.contextmanager
def enable_grad():
    """Context that turns graph building back on inside `no_grad()`."""
    previous = is_grad_enabled()
    _set_grad_enabled(True)
    try:
        yield
    finally:
        _set_grad_enabled(previous)


def enable_autograd(quiet: bool = False) -> None:
    """Kept for TinyTorch scripts: autograd is always on here, so this does nothing (and prints nothing)."""
    if not isinstance(quiet, (bool, np.bool_)):
        raise TypeError(f"enable_autograd: quiet must be a bool, got {quiet!r} ({type(quiet).__name__})")
