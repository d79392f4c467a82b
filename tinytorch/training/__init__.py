"""Training: the settings of a run (`TrainConfig`) and, as the restructure moves them here, the loop around them."""

from .config import TrainConfig

__all__ = ["TrainConfig"]
