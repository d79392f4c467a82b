"""The functional API: one plain function per op (`tinytorch.core.functions.add(a, b)`, `F.softmax(x)`).

It sits above the Tensor: the Tensor's own methods apply the ops in `core.ops` directly, and these
functions take the same path through them, so every argument is checked once, wherever it enters.
The neural-network ops (layer norm, cross-entropy, embeddings, fused attention) are called by the layers.
"""

from __future__ import annotations

import numpy as np

from ..checks import check_axis, check_broadcast, check_float, check_mask
from ..ops import matmul as _mm
from ..ops import nn as _nn
from ..ops import reduce as _red
from ..ops import select as _sel
from ..ops import shape as _shp
from ..ops.attention import ScaledDotProductAttention, SelfAttentionHeads, causal_allowed
from ..ops.nn import log_softmax_array, softmax_array
from ..ops.normalization import LayerNorm
from ..tensor import Tensor, as_tensor


# ----- the Tensor's operations, as functions -------------------------------------------------------
def add(a, b):
    return as_tensor(a) + b


def sub(a, b):
    return as_tensor(a) - b


def mul(a, b):
    return as_tensor(a) * b


def div(a, b):
    return as_tensor(a) / b


def neg(a):
    return -as_tensor(a)


def power(a, exponent: float):
    return as_tensor(a) ** exponent


def pow_tensor(a, b):
    return as_tensor(a) ** as_tensor(b)


def matmul(a, b):
    return as_tensor(a) @ b


def exp(a):
    return as_tensor(a).exp()


def log(a):
    return as_tensor(a).log()


def sqrt(a):
    return as_tensor(a).sqrt()


def abs(a):  # noqa: A001 - mirrors numpy/torch naming
    return as_tensor(a).abs()


def tanh(a):
    return as_tensor(a).tanh()


def sigmoid(a):
    return as_tensor(a).sigmoid()


def relu(a):
    return as_tensor(a).relu()


def gelu(a, approximate: str = "tanh"):
    return as_tensor(a, name="input", where="gelu").gelu(approximate)


def clip(a, min_value=None, max_value=None):
    return as_tensor(a).clip(min_value, max_value)


def cast(a, dtype):
    return as_tensor(a).astype(dtype)


def reshape(a, shape):
    return as_tensor(a).reshape(shape)


def transpose(a, dim0: int = -2, dim1: int = -1):
    return as_tensor(a).transpose(dim0, dim1)


def permute(a, dims):
    return as_tensor(a).permute(dims)


def getitem(a, index):
    return as_tensor(a)[index]


def sum(a, axis=None, keepdims: bool = False):  # noqa: A001
    return as_tensor(a).sum(axis, keepdims)


def mean(a, axis=None, keepdims: bool = False):
    return as_tensor(a).mean(axis, keepdims)


def max(a, axis=None, keepdims: bool = False):  # noqa: A001
    return as_tensor(a).max(axis, keepdims)


def var(a, axis=None, keepdims: bool = False, ddof: int = 0):
    return as_tensor(a).var(axis, keepdims, ddof)


def arg_extreme(a, axis=None, keepdims: bool = False, largest: bool = True):
    """argmax/argmin: int64 indices (no gradient) along `axis`, or into the flattened tensor when axis is None."""
    a = as_tensor(a)
    return a.argmax(axis, keepdims) if largest else a.argmin(axis, keepdims)


def extreme_with_indices(a, dim: int, keepdim: bool = False, largest: bool = True):
    """torch.max/min(a, dim): values and int64 indices along `dim` (first on ties); gradient to those entries."""
    a = as_tensor(a)
    return a.max(dim=dim, keepdim=keepdim) if largest else a.min(dim=dim, keepdim=keepdim)


def masked_fill(a, mask, value: float):
    return as_tensor(a).masked_fill(mask, value)


def softmax(a, dim: int = -1):
    return as_tensor(a).softmax(dim)


def log_softmax(a, dim: int = -1):
    return as_tensor(a).log_softmax(dim)


# ----- functions of several tensors ----------------------------------------------------------------
def linear(x, weight, bias=None):
    """x @ weight + bias with weight (in, out), fused into one op (which checks the shapes)."""
    if bias is None:
        return _mm.Linear.apply(x, weight)
    return _mm.Linear.apply(x, weight, bias)


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


def where(condition, a, b):
    cond = check_mask(condition, "where", "condition")
    check_broadcast("where", {"condition": cond.shape, "a": np.shape(a), "b": np.shape(b)})
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    return _sel.Where.apply(as_tensor(a, like), as_tensor(b, like), condition=cond)


# ----- neural-network ops --------------------------------------------------------------------------
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
                         weights_sink=None, qkv=None):
    """Fused multi-head self-attention before the output projection: (B, T, C) -> (B, T, C).
    A list given as `weights_sink` receives the (B, H, T, T) attention weights; `qkv`, the (C, 3C)
    weight and (3C,) bias that wq|wk|wv and bq|bk|bv are column blocks of, if they are stored so."""
    return SelfAttentionHeads.apply(x, wq, bq, wk, bk, wv, bv, num_heads=num_heads, allowed=allowed, causal=causal,
                                    weights_sink=weights_sink, qkv=qkv)


__all__ = [
    "as_tensor", "add", "sub", "mul", "div", "neg", "power", "pow_tensor", "matmul", "linear",
    "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "gelu", "clip", "cast",
    "reshape", "transpose", "permute", "getitem", "concatenate", "cat", "stack",
    "sum", "mean", "max", "var", "extreme_with_indices", "arg_extreme", "where", "masked_fill",
    "softmax", "log_softmax", "layer_norm", "cross_entropy", "embedding", "token_position_embedding", "dropout",
    "scaled_dot_product_attention_fused", "self_attention_heads", "causal_allowed", "softmax_array", "log_softmax_array",
]
