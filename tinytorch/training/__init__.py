"""Training: the settings of a run (`TrainConfig`), the Trainer and its loop, callbacks, checkpoints."""

from .config import TrainConfig

__all__ = ["TrainConfig"]
