"""Loss functions: MSE, cross-entropy over class logits, and binary cross-entropy."""

from __future__ import annotations

import numpy as np

from ..core import functions as F
from .layers import Module
from ..core.tensor import Tensor
from ..core.validation import as_tensor, as_token_ids, check_choice, check_float, check_int


def _float_input(x, name: str, where: str) -> Tensor:
    """`x` as a floating Tensor: integer or bool scores are computed in float32, never truncated."""
    x = as_tensor(x, name=name, where=where)
    return x if x.dtype.kind == "f" else x.astype(np.float32)


def log_softmax(x, dim: int = -1) -> Tensor:
    """log(softmax(x)) computed stably in one op."""
    return F.log_softmax(_float_input(x, "input", "log_softmax"), dim)


class MSELoss(Module):
    """Mean of squared differences."""

    def forward(self, predictions, targets) -> Tensor:
        predictions = _float_input(predictions, "predictions", "MSELoss")
        targets = as_tensor(targets, predictions, "targets", "MSELoss")
        if predictions.shape != targets.shape:
            raise ValueError(f"MSELoss: predictions {predictions.shape} and targets {targets.shape} differ in shape")
        diff = predictions - targets
        return (diff * diff).mean()


class CrossEntropyLoss(Module):
    """Softmax cross-entropy: logits (N, C) with targets (N,), or (B, T, C) with (B, T)."""

    def __init__(self, ignore_index: int | None = None, reduction: str = "mean"):
        super().__init__()
        check_choice(reduction, ("mean", "sum", "none"), "reduction", "CrossEntropyLoss")
        if ignore_index is not None:
            ignore_index = check_int(ignore_index, "ignore_index", "CrossEntropyLoss")
        self.ignore_index, self.reduction = ignore_index, reduction

    def forward(self, logits, targets) -> Tensor:
        logits = _float_input(logits, "logits", "CrossEntropyLoss")  # integer logits: 4.0916, not a truncated 4
        ids = as_token_ids(targets, None, "CrossEntropyLoss", name="target")
        if logits.ndim < 2 or ids.shape != logits.shape[:-1]:
            raise ValueError(
                f"CrossEntropyLoss: logits of shape {logits.shape} need targets of shape {logits.shape[:-1]}, "
                f"got {ids.shape}"
            )
        num_classes = logits.shape[-1]
        flat = ids.reshape(-1)
        counted = flat if self.ignore_index is None else flat[flat != self.ignore_index]
        if counted.size and (counted.min() < 0 or counted.max() >= num_classes):
            bad = counted[(counted < 0) | (counted >= num_classes)][0]
            raise ValueError(f"CrossEntropyLoss: target {bad} is outside [0, {num_classes})")
        loss = F.cross_entropy(logits, flat, self.ignore_index, self.reduction)  # flattens (B, T, C) itself
        if self.reduction == "none" and ids.ndim > 1:
            loss = loss.reshape(ids.shape)
        return loss


class BinaryCrossEntropyLoss(Module):
    """-mean(y log p + (1 - y) log(1 - p)) for probabilities p in (0, 1), clipped away from 0 and 1."""

    def __init__(self, eps: float = 1e-7):
        super().__init__()
        self.eps = check_float(eps, "eps", "BinaryCrossEntropyLoss", minimum=0.0, maximum=0.5,
                               min_inclusive=False)

    def forward(self, predictions, targets) -> Tensor:
        predictions = _float_input(predictions, "predictions", "BinaryCrossEntropyLoss")
        targets = as_tensor(targets, predictions, "targets", "BinaryCrossEntropyLoss")
        if predictions.shape != targets.shape:
            raise ValueError(
                f"BinaryCrossEntropyLoss: predictions {predictions.shape} and targets {targets.shape} differ in shape"
            )
        outside = ~((predictions.data >= 0) & (predictions.data <= 1))  # NaN counts as outside
        if outside.any():  # PyTorch raises too: a score that is not a probability is a bug upstream
            raise ValueError(f"BinaryCrossEntropyLoss: predictions must be probabilities in [0, 1], "
                             f"got {predictions.data[outside].flat[0]}; apply sigmoid first")
        p = predictions.clip(self.eps, 1 - self.eps)
        return -(targets * p.log() + (1 - targets) * (1 - p).log()).mean()
