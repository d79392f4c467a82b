"""Reverse-mode automatic differentiation: the Function base class, grad mode, and the backward engine.

Every differentiable op is a small `Function` subclass with a `forward` on ndarrays and a
`backward` that maps the output's gradient to one gradient per input. `backward()` walks the
graph once, in reverse topological order, without recursion.
"""

from __future__ import annotations

import contextlib
import threading
from heapq import heappop, heappush

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


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `grad` over the axes that broadcasting expanded, so it has `shape` again."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


class Function:
    """One differentiable operation.

    Subclasses implement `forward(self, *arrays, **options) -> ndarray`, storing on `self` what
    backward needs, and `backward(self, grad) -> gradient or tuple of gradients` (one per tensor
    input; `None` where `self.needs_input_grad[i]` is False).
    """

    @classmethod
    def apply(cls, *inputs: "Tensor", **options):
        """Run forward on the inputs' data and, when a gradient is needed, link the output to them."""
        fn = cls()
        out_data = fn.forward(*[t.data for t in inputs], **options)
        if _state.grad_enabled:
            needs = [t.requires_grad for t in inputs]
            if True in needs:
                out = Tensor._from_op(out_data, True)
                fn.inputs = inputs
                fn.needs_input_grad = needs
                out._ctx = fn
                if _state.anomaly:
                    _anomaly_check_forward(fn, out_data)
                return out
        return Tensor._from_op(out_data, False)

    def forward(self, *arrays, **options):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.backward")


def run_backward(root: "Tensor", grad: np.ndarray) -> None:
    """Propagate `grad` from `root` to every leaf that requires a gradient; leaf grads accumulate.

    Every tensor carries a creation number `_seq`, and an op's output is always created after its
    inputs. Taking the pending tensor with the highest number first (a heap) therefore reaches a
    tensor only after all of its consumers have added their share of its gradient: one pass, each
    node visited once, no separate topological sort and no recursion. Leaves never enter the heap:
    their shares are summed in `grads` and stored once at the end, so a failed backward stores none.
    """
    grads = {root: grad}  # the gradient summed so far for each tensor reached
    heap = [] if root._ctx is None else [(-root._seq, id(root), root)]  # id() breaks ties (a deep copy keeps its _seq)
    anomaly = _state.anomaly
    previous = _state.grad_enabled
    _state.grad_enabled = False  # backward functions work on arrays; nothing they do is recorded
    try:
        while heap:
            node = heappop(heap)[2]
            g = grads.pop(node)
            if node._retain_grad:
                node.grad = np.array(g) if node.grad is None else node.grad + g
            ctx = node._ctx
            input_grads = ctx.backward(g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if anomaly:
                _anomaly_check_backward(ctx, input_grads)
            for parent, needs, pg in zip(ctx.inputs, ctx.needs_input_grad, input_grads):
                if not needs or pg is None:
                    continue
                pending = grads.get(parent)
                if pending is None:
                    grads[parent] = pg
                    if parent._ctx is not None:
                        heappush(heap, (-parent._seq, id(parent), parent))
                else:
                    grads[parent] = pending + pg
        for leaf, g in grads.items():  # only leaves are left
            _store_leaf_grad(leaf, g)
    finally:
        _state.grad_enabled = previous


def _store_leaf_grad(leaf: "Tensor", g) -> None:
    """Our own copy on the first store (a later in-place edit, like clipping, aliases nothing), a sum after."""
    dtype = leaf.data.dtype
    if leaf.grad is None:
        leaf.grad = g.astype(dtype) if type(g) is np.ndarray else np.array(g, dtype=dtype)  # astype: the faster copy
    else:
        leaf.grad = leaf.grad + np.asarray(g, dtype=dtype)


# Anomaly detection lives in its own module; the engine calls these only while it is on.
def _anomaly_check_forward(fn, out_data):
    from .anomaly import check_forward

    check_forward(fn, out_data)


def _anomaly_check_backward(fn, grads):
    from .anomaly import check_backward

    check_backward(fn, grads)


from .tensor import Tensor  # noqa: E402  (Tensor needs Function defined first)
