"""PyTorch-style functional namespace (`tinytorch.nn.functional as F`) over the core ops."""

from __future__ import annotations

from ..core import functions as _ops
from ..core.attention import scaled_dot_product_attention
from ..core.losses import CrossEntropyLoss, log_softmax
from ..core.random import get_rng
from ..core.tensor import Tensor

relu = _ops.relu
gelu = _ops.gelu
sigmoid = _ops.sigmoid
tanh = _ops.tanh
softmax = _ops.softmax
linear = _ops.linear
layer_norm = _ops.layer_norm


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout; the identity when not training or p == 0."""
    if not training or p == 0.0:
        return x
    return _ops.dropout(x, p, get_rng())


def cross_entropy(logits: Tensor, targets, ignore_index: int | None = None, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy; the same checks as `CrossEntropyLoss`."""
    return CrossEntropyLoss(ignore_index=ignore_index, reduction=reduction)(logits, targets)


def mse_loss(predictions: Tensor, targets) -> Tensor:
    diff = predictions - _ops.as_tensor(targets, predictions)
    return (diff * diff).mean()


def embedding(ids, weight: Tensor) -> Tensor:
    from ..core.validation import as_token_ids

    return _ops.embedding(weight, as_token_ids(ids, weight.shape[0], "embedding"))


__all__ = ["relu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "layer_norm", "dropout",
           "cross_entropy", "mse_loss", "embedding", "scaled_dot_product_attention"]
