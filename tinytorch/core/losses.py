"""Loss functions: MSE, cross-entropy over class logits, and binary cross-entropy."""

from __future__ import annotations

import numpy as np

from . import functions as F
from .layers import Module
from .tensor import Tensor


def log_softmax(x, dim: int = -1) -> Tensor:
    """log(softmax(x)) computed stably in one op."""
    return F.log_softmax(x if isinstance(x, Tensor) else Tensor(x), dim)


def as_class_ids(targets, num_classes: int, where: str) -> np.ndarray:
    """Integer class ids from ints or whole-number floats; raises on fractions or out-of-range ids."""
    arr = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            bad = arr[(~np.isfinite(arr)) | (arr != np.round(arr))].flat[0]
            raise ValueError(f"{where}: id {bad} is not a whole number")
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "iu":
        raise TypeError(f"{where}: ids must be integers, got dtype {arr.dtype}")
    return arr


class MSELoss(Module):
    """Mean of squared differences."""

    def forward(self, predictions, targets) -> Tensor:
        predictions = predictions if isinstance(predictions, Tensor) else Tensor(predictions)
        targets = F.as_tensor(targets, predictions)
        if predictions.shape != targets.shape:
            raise ValueError(f"MSELoss: predictions {predictions.shape} and targets {targets.shape} differ in shape")
        diff = predictions - targets
        return (diff * diff).mean()


class CrossEntropyLoss(Module):
    """Softmax cross-entropy: logits (N, C) with targets (N,), or (B, T, C) with (B, T)."""

    def __init__(self, ignore_index: int | None = None, reduction: str = "mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"CrossEntropyLoss: reduction must be mean, sum or none, got {reduction!r}")
        self.ignore_index, self.reduction = ignore_index, reduction

    def forward(self, logits, targets) -> Tensor:
        logits = logits if isinstance(logits, Tensor) else Tensor(logits)
        num_classes = logits.shape[-1]
        ids = as_class_ids(targets, num_classes, "CrossEntropyLoss")
        if logits.ndim < 2 or ids.shape != logits.shape[:-1]:
            raise ValueError(
                f"CrossEntropyLoss: logits of shape {logits.shape} need targets of shape {logits.shape[:-1]}, "
                f"got {ids.shape}"
            )
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
        self.eps = eps

    def forward(self, predictions, targets) -> Tensor:
        predictions = predictions if isinstance(predictions, Tensor) else Tensor(predictions)
        targets = F.as_tensor(targets, predictions)
        if predictions.shape != targets.shape:
            raise ValueError(
                f"BinaryCrossEntropyLoss: predictions {predictions.shape} and targets {targets.shape} differ in shape"
            )
        p = predictions.clip(self.eps, 1 - self.eps)
        return -(targets * p.log() + (1 - targets) * (1 - p).log()).mean()
