"""PyTorch-style namespace: `tinytorch.optim.Adam`, ... over the core optimizers."""

from .optimizers import SGD, Adam, AdamW, Optimizer
from .schedule import CosineSchedule

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "CosineSchedule"]
