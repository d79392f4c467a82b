"""TinyTorch's path `tinytorch.core.training`: the code lives in `tinytorch.training.trainer`."""

from ..training.trainer import (  # noqa: F401
    CosineSchedule, NonFiniteLossError, Trainer, clip_grad_norm, load_checkpoint, save_checkpoint,
)
