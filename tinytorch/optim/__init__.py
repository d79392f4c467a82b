"""PyTorch-style namespace: `tinytorch.optim.Adam`, ... over the core optimizers."""

from ..core.optimizers import SGD, Adam, AdamW, Optimizer
from ..core.schedule import CosineSchedule

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "CosineSchedule"]
