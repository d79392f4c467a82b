"""The functional API: one plain function per op, each applying its `Function`.

Tensor methods and operators call these; so do layers. Inputs that are not Tensors
(scalars, ndarrays) are wrapped as constants.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ..validation import as_tensor, check_axis, check_choice, check_dtype, check_float, check_mask
from . import elementwise as _ew
from . import matmul as _mm
from . import nn as _nn
from . import reduce as _red
from . import select as _sel
from . import shape as _shp
from .attention import ScaledDotProductAttention, SelfAttentionHeads, causal_allowed
from .normalization import LayerNorm
from .nn import log_softmax_array, softmax_array


# ----- arithmetic ----------------------------------------------------------------------------------
def _binary(op, a, b):
    """Apply a broadcasting op; shapes that do not broadcast are an error naming the op and both shapes."""
    try:
        return op.apply(a, b)
    except ValueError:
        if a.ndim and b.ndim and len({a.shape, b.shape}) == 2:
            try:
                np.broadcast_shapes(a.shape, b.shape)
            except ValueError:
                name = "pow" if op is _ew.PowTensor else op.__name__.lower()
                raise ValueError(f"{name}: shapes {a.shape} and {b.shape} do not broadcast") from None
        raise


def add(a, b):
    return _binary(_ew.Add, a, b)


def sub(a, b):
    return _binary(_ew.Sub, a, b)


def mul(a, b):
    return _binary(_ew.Mul, a, b)


def div(a, b):
    return _binary(_ew.Div, a, b)


def neg(a):
    return _ew.Neg.apply(a)


def power(a, exponent: float):
    return _ew.Power.apply(a, exponent=check_float(exponent, "exponent", "pow", finite=False))


def pow_tensor(a, b):
    return _binary(_ew.PowTensor, a, b)


def matmul(a, b):
    return _mm.MatMul.apply(a, b)


def linear(x, weight, bias=None):
    """x @ weight + bias with weight (in, out), fused into one op."""
    if x.ndim == 0:  # the feature-size check lives in the op
        raise ValueError(f"linear: expected input of shape (..., {weight.shape[0]}), got a 0-d tensor")
    if bias is None:
        return _mm.Linear.apply(x, weight)
    return _mm.Linear.apply(x, weight, bias)


# ----- pointwise -----------------------------------------------------------------------------------
def exp(a):
    return _ew.Exp.apply(a)


def log(a):
    return _ew.Log.apply(a)


def sqrt(a):
    return _ew.Sqrt.apply(a)


def abs(a):  # noqa: A001 - mirrors numpy/torch naming
    return _ew.Abs.apply(a)


def tanh(a):
    return _ew.Tanh.apply(a)


def sigmoid(a):
    return _ew.Sigmoid.apply(a)


def relu(a):
    return _ew.ReLU.apply(a)


def gelu(a, approximate: str = "tanh"):
    return _ew.GELU.apply(as_tensor(a, name="input", where="gelu"),
                          approximate=check_choice(approximate, ("tanh", "none"), "approximate", "gelu"))


def clip(a, min_value=None, max_value=None):
    lo = None if min_value is None else check_float(min_value, "min", "clip", finite=False)
    hi = None if max_value is None else check_float(max_value, "max", "clip", finite=False)
    return _ew.Clip.apply(a, lo=lo, hi=hi)


def cast(a, dtype):
    return _ew.Cast.apply(a, dtype=check_dtype(dtype, "dtype", "astype"))


# ----- shape ---------------------------------------------------------------------------------------
def reshape(a, shape):
    return _shp.Reshape.apply(a, shape=tuple(shape))


def transpose(a, dim0: int = -2, dim1: int = -1):
    return _shp.Transpose.apply(a, dim0=dim0, dim1=dim1)


def permute(a, dims):
    return _shp.Permute.apply(a, dims=tuple(dims))


def _plain_index(index):
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def getitem(a, index):
    try:
        return _shp.GetItem.apply(a, index=_plain_index(index))
    except IndexError as error:  # numpy's message is clear; say which tensor it was about
        raise IndexError(f"index: {error} (tensor of shape {a.shape})") from None


def _joined(tensors, where: str) -> list:
    """The tensors to concatenate or stack, as Tensors; an empty sequence is a clear error."""
    if isinstance(tensors, Tensor) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{where}: tensors must be a sequence of tensors, got {type(tensors).__name__}")
    tensors = [as_tensor(t, name="tensors", where=where) for t in tensors]
    if not tensors:
        raise ValueError(f"{where}: tensors must hold at least one tensor, got an empty sequence")
    return tensors


def concatenate(tensors, axis: int | None = None, *, dim: int | None = None):
    """Join tensors along an existing axis (`dim=` is PyTorch's name for `axis`)."""
    axis, _ = _red.resolve_axis("concatenate", axis, False, dim, None)
    tensors = _joined(tensors, "concatenate")
    axis = check_axis(0 if axis is None else axis, tensors[0].ndim, "concatenate", "axis" if dim is None else "dim")
    return _shp.Concatenate.apply(*tensors, axis=axis)


def cat(tensors, dim: int = 0):
    """PyTorch's name for `concatenate`."""
    return concatenate(tensors, dim)


def stack(tensors, axis: int | None = None, *, dim: int | None = None):
    """Join tensors along a new axis (`dim=` is PyTorch's name for `axis`)."""
    axis, _ = _red.resolve_axis("stack", axis, False, dim, None)
    tensors = _joined(tensors, "stack")
    axis = check_axis(0 if axis is None else axis, tensors[0].ndim + 1, "stack", "axis" if dim is None else "dim")
    return _shp.Stack.apply(*tensors, axis=axis)


# ----- reductions ----------------------------------------------------------------------------------
def sum(a, axis=None, keepdims: bool = False):  # noqa: A001
    return _red.Sum.apply(a, axis=axis, keepdims=keepdims)


def mean(a, axis=None, keepdims: bool = False):
    return _red.Mean.apply(a, axis=axis, keepdims=keepdims)


def max(a, axis=None, keepdims: bool = False):  # noqa: A001
    return _red.Max.apply(a, axis=axis, keepdims=keepdims)


def var(a, axis=None, keepdims: bool = False, ddof: int = 0):
    return _red.Var.apply(a, axis=axis, keepdims=keepdims, ddof=ddof)


def _extreme_indices(a, axis, keepdims: bool, largest: bool, where: str, name: str) -> np.ndarray:
    """int64 positions of the largest (or smallest) entries along one axis, the first on ties; flat when axis is None."""
    if axis is not None:
        if isinstance(axis, (tuple, list)) or a.ndim == 0:
            raise TypeError(f"{where}: {name} must be one int and the tensor at least 1-d, "
                            f"got {name}={axis!r} for shape {a.shape}")
        axis = check_axis(axis, a.ndim, where, name)
    if a.data.size == 0 or (axis is not None and a.shape[axis] == 0):
        raise ValueError(f"{where}: cannot reduce over an empty axis (shape {a.shape}, {name}={axis!r})")
    pick = np.argmax if largest else np.argmin
    return np.asarray(pick(a.data, axis=axis, keepdims=keepdims), dtype=np.int64)


def arg_extreme(a, axis=None, keepdims: bool = False, largest: bool = True):
    """argmax/argmin: int64 indices (no gradient) along `axis`, or into the flattened tensor when axis is None."""
    where = "argmax" if largest else "argmin"
    return Tensor._from_op(_extreme_indices(a, axis, keepdims, largest, where, "axis"), False)


def extreme_with_indices(a, dim: int, keepdim: bool = False, largest: bool = True):
    """torch.max/min(a, dim): values and int64 indices along `dim` (first on ties); gradient to those entries."""
    where = "max" if largest else "min"
    index = _extreme_indices(a, dim, True, largest, where, "dim")  # (..., 1, ...)
    axis = check_axis(dim, a.ndim, where, "dim")
    values = _sel.TakeAlong.apply(a, indices=index, axis=axis)
    if not keepdim:
        values, index = reshape(values, np.squeeze(index, axis).shape), np.squeeze(index, axis)
    return _red.ValuesIndices(values, Tensor._from_op(index, False))


# ----- selection -----------------------------------------------------------------------------------
def where(condition, a, b):
    cond = check_mask(condition, "where", "condition")
    _check_broadcast("where", {"condition": cond.shape, "a": np.shape(a), "b": np.shape(b)})
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    return _sel.Where.apply(as_tensor(a, like), as_tensor(b, like), condition=cond)


def _check_broadcast(where: str, shapes: dict, target: tuple | None = None) -> None:
    """The named shapes broadcast together (to exactly `target` when given), or an error names them all."""
    try:
        shape = np.broadcast_shapes(*shapes.values())
    except ValueError:
        shape = None
    if shape is None or (target is not None and shape != target):
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(f"{where}: shapes {listed} do not broadcast" + (f" to {target}" if target else ""))


def masked_fill(a, mask, value: float):
    mask = check_mask(mask, "masked_fill")
    _check_broadcast("masked_fill", {"mask": mask.shape, "tensor": a.shape}, target=a.shape)
    return _sel.MaskedFill.apply(a, mask=mask, value=value)


# ----- neural-network ops --------------------------------------------------------------------------
def softmax(a, dim: int = -1):
    return _nn.Softmax.apply(a, dim=check_axis(dim, a.ndim, "softmax", "dim"))


def log_softmax(a, dim: int = -1):
    return _nn.LogSoftmax.apply(a, dim=check_axis(dim, a.ndim, "log_softmax", "dim"))


def layer_norm(x, gamma, beta, eps: float = 1e-5):
    eps = check_float(eps, "eps", "layer_norm", minimum=0.0, min_inclusive=False)
    return LayerNorm.apply(x, gamma, beta, eps=eps)


def cross_entropy(logits, targets: np.ndarray, ignore_index=None, reduction: str = "mean"):
    """logits (..., C) Tensor, targets (N,) integer ndarray (N = the leading dims' size) already validated."""
    return _nn.CrossEntropy.apply(logits, targets=targets, ignore_index=ignore_index, reduction=reduction)


def embedding(weight, ids: np.ndarray):
    """Rows of `weight` (V, D) for integer `ids` of any shape -> (*ids.shape, D)."""
    return _nn.EmbeddingBackward.apply(weight, ids=ids)


def token_position_embedding(tokens, positions, ids: np.ndarray, start: int = 0):
    """tokens[ids] + positions[start : start + T] for validated (B, T) ids, fused into one op."""
    return _nn.TokenPositionEmbedding.apply(tokens, positions, ids=ids, start=start)


def dropout(x, p: float, rng: np.random.Generator):
    return _nn.Dropout.apply(x, p=p, rng=rng)


def scaled_dot_product_attention_fused(q, k, v, allowed=None, weights_sink=None):
    """Fused attention on Tensors; `allowed` is a bool ndarray (True = may attend) or None.
    A list given as `weights_sink` receives a copy of the attention weights."""
    return ScaledDotProductAttention.apply(q, k, v, allowed=allowed, weights_sink=weights_sink)


def self_attention_heads(x, wq, bq, wk, bk, wv, bv, num_heads: int, allowed=None, causal: bool = False,
                         weights_sink=None):
    """Fused multi-head self-attention before the output projection: (B, T, C) -> (B, T, C).
    A list given as `weights_sink` receives the (B, H, T, T) attention weights."""
    return SelfAttentionHeads.apply(x, wq, bq, wk, bk, wv, bv, num_heads=num_heads, allowed=allowed, causal=causal,
                                    weights_sink=weights_sink)


__all__ = [
    "as_tensor", "add", "sub", "mul", "div", "neg", "power", "pow_tensor", "matmul", "linear",
    "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "gelu", "clip", "cast",
    "reshape", "transpose", "permute", "getitem", "concatenate", "cat", "stack",
    "sum", "mean", "max", "var", "extreme_with_indices", "arg_extreme", "where", "masked_fill",
    "softmax", "log_softmax", "layer_norm", "cross_entropy", "embedding", "token_position_embedding", "dropout",
    "scaled_dot_product_attention_fused", "self_attention_heads", "causal_allowed", "softmax_array", "log_softmax_array",
]
