"""The functional forms of the layers and losses (PyTorch's `torch.nn.functional`): one call, no module kept.

Each is the same code as its module (`dropout` is `Dropout`, `cross_entropy` is `CrossEntropyLoss`, ...),
so the checks and the numbers are the same either way.
"""

from __future__ import annotations

from ..core import functions as _ops
from .attention import scaled_dot_product_attention
from .layers import Dropout
from .losses import CrossEntropyLoss, MSELoss, log_softmax
from ..core.tensor import Tensor
from ..core.validation import as_tensor, as_token_ids

gelu = _ops.gelu
softmax = _ops.softmax
layer_norm = _ops.layer_norm


def relu(x) -> Tensor:
    return _ops.relu(as_tensor(x, name="input", where="relu"))


def sigmoid(x) -> Tensor:
    return _ops.sigmoid(as_tensor(x, name="input", where="sigmoid"))


def tanh(x) -> Tensor:
    return _ops.tanh(as_tensor(x, name="input", where="tanh"))


def linear(x, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight + bias with weight (in_features, out_features), as `Linear` stores it."""
    return _ops.linear(as_tensor(x, name="input", where="linear"), weight, bias)


def dropout(x, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout with tinytorch's seeded generator; the identity when not training or p == 0."""
    return Dropout(p).forward(x, training=training)


def cross_entropy(logits: Tensor, targets, ignore_index: int | None = None, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of logits (N, C) or (B, T, C) against integer targets."""
    return CrossEntropyLoss(ignore_index=ignore_index, reduction=reduction)(logits, targets)


def mse_loss(predictions, targets) -> Tensor:
    """Mean of squared differences; predictions and targets must have the same shape."""
    return MSELoss()(predictions, targets)


def embedding(ids, weight: Tensor) -> Tensor:
    """Rows of `weight` (V, D) for integer `ids` of any shape -> (*ids.shape, D)."""
    return _ops.embedding(weight, as_token_ids(ids, weight.shape[0], "embedding"))


__all__ = ["relu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "layer_norm", "dropout",
           "cross_entropy", "mse_loss", "embedding", "scaled_dot_product_attention"]
