"""Reverse-mode automatic differentiation: the Function base class, grad mode, and the backward engine.

Every differentiable op is a small `Function` subclass with a `forward` on ndarrays and a
`backward` that maps the output's gradient to one gradient per input. `backward()` walks the
graph once, in reverse topological order, without recursion.
"""

from __future__ import annotations

from heapq import heappop, heappush
from operator import attrgetter

import numpy as np

from .anomaly import check_backward, check_forward
from .grad_mode import _state, enable_autograd, enable_grad, is_grad_enabled, no_grad  # noqa: F401  (re-exported)


_FLOAT32 = np.dtype(np.float32)
_DATA, _REQUIRES_GRAD = attrgetter("data"), attrgetter("requires_grad")  # C-level reads, once per op


def floating(a: np.ndarray) -> np.ndarray:
    """`a` itself if it holds floats, else as float32 (torch's default dtype): math on ids and masks."""
    return a if a.dtype.kind == "f" else a.astype(np.float32)


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

    released = False  # True once a backward has freed what this op saved
    promotes = True  # a float result of a precision no input holds (numpy's promotion) becomes float32; not for Cast

    @classmethod
    def apply(cls, *inputs, **options):
        """Run forward on the inputs' data and, when a gradient is needed, link the output to them."""
        fn = cls()
        out_data = fn.forward(*map(_DATA, inputs), **options)
        dtype = out_data.dtype
        if dtype is not _FLOAT32 and dtype.kind == "f" and cls.promotes and not any(t.data.dtype is dtype for t in inputs):
            out_data = out_data.astype(np.float32)  # int / int, int * 0.5, exp of bools: float32, torch's default
        if _state.grad_enabled:
            needs = list(map(_REQUIRES_GRAD, inputs))
            if True in needs:
                out = inputs[0]._from_op(out_data, True)  # outputs are made by the inputs' own Tensor type
                fn.inputs = inputs
                fn.needs_input_grad = needs
                out._ctx = fn
                if _state.anomaly:
                    check_forward(fn, out_data)
                return out
        return inputs[0]._from_op(out_data, False)

    def forward(self, *arrays, **options):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def release(self) -> None:
        """Drop the saved arrays and the links to the inputs (the graph behind this op); keep only the flag."""
        self.__dict__.clear()
        self.released = True


GRAPH_FREED = ("backward: trying to backward through the graph a second time (or to use a result after "
               "its graph was freed): the first backward() freed what {op} saved for its gradient; "
               "call backward(retain_graph=True) the first time to keep the graph")


def run_backward(root, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Propagate `grad` from `root` to every leaf that requires a gradient; leaf grads accumulate.

    Unless `retain_graph`, each op is released once its gradient is passed on (PyTorch's rule):
    its saved arrays and its links to its inputs go, so a loss kept after `backward()` no longer
    keeps the step's activations alive, and a second backward through it is an error.

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
            if ctx.released:
                raise RuntimeError(GRAPH_FREED.format(op=type(ctx).__name__))
            input_grads = ctx.backward(g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if anomaly:
                check_backward(ctx, input_grads)
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
            if not retain_graph:
                ctx.release()
        for leaf, g in grads.items():  # only leaves are left
            _store_leaf_grad(leaf, g)
    finally:
        _state.grad_enabled = previous


def _store_leaf_grad(leaf, g) -> None:
    """Our own copy on the first store (a later in-place edit, like clipping, aliases nothing), a sum after."""
    dtype = leaf.data.dtype
    if leaf.grad is None:
        leaf.grad = g.astype(dtype) if type(g) is np.ndarray else np.array(g, dtype=dtype)  # astype: the faster copy
    else:
        leaf.grad = leaf.grad + np.asarray(g, dtype=dtype)
