"""Reverse-mode automatic differentiation: the Function base class, grad mode, and the backward engine.

Every differentiable op is a small `Function` subclass with a `forward` on ndarrays and a
`backward` that maps the output's gradient to one gradient per input. `backward()` walks the
graph once, in reverse topological order, without recursion.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

_state = threading.local()


def is_grad_enabled() -> bool:
    """True when operations record a graph for backward."""
    return getattr(_state, "grad_enabled", True)


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


def enable_autograd() -> None:
    """Kept for TinyTorch scripts: autograd is always on here, so this does nothing."""


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
        needs = [t.requires_grad for t in inputs]
        track = any(needs) and is_grad_enabled()
        out = Tensor._from_op(out_data, track)
        if track:
            fn.inputs = inputs
            fn.needs_input_grad = needs
            out._ctx = fn
            _anomaly_check_forward(fn, out_data)
        return out

    def forward(self, *arrays, **options):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.backward")


def _topological_order(root: "Tensor") -> list:
    """Tensors that need a gradient, reachable from `root`, each after all of its inputs."""
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        ctx = node._ctx
        if ctx is not None:
            for parent in ctx.inputs:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def run_backward(root: "Tensor", grad: np.ndarray) -> None:
    """Propagate `grad` from `root` to every leaf that requires a gradient; leaf grads accumulate."""
    order = _topological_order(root)
    grads = {id(root): grad}
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        ctx = node._ctx
        if ctx is None:
            # A leaf: keep our own copy so later in-place edits never alias another tensor.
            g = np.array(g, dtype=node.data.dtype)
            node.grad = g if node.grad is None else node.grad + g
            continue
        if node._retain_grad:
            node.grad = np.array(g) if node.grad is None else node.grad + g
        with no_grad():
            input_grads = ctx.backward(g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        _anomaly_check_backward(ctx, input_grads)
        for parent, needs, pg in zip(ctx.inputs, ctx.needs_input_grad, input_grads):
            if not needs or pg is None:
                continue
            key = id(parent)
            previous = grads.get(key)
            grads[key] = pg if previous is None else previous + pg


# Anomaly detection lives in its own module; these hooks cost one attribute read when it is off.
def _anomaly_check_forward(fn, out_data):
    if getattr(_state, "anomaly", False):
        from .anomaly import check_forward

        check_forward(fn, out_data)


def _anomaly_check_backward(fn, grads):
    if getattr(_state, "anomaly", False):
        from .anomaly import check_backward

        check_backward(fn, grads)


from .tensor import Tensor  # noqa: E402  (Tensor needs Function defined first)
