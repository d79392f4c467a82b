"""TinyTorch's path `tinytorch.core.callbacks`: the code lives in `tinytorch.training.callbacks`."""

from ..training.callbacks import (  # noqa: F401
    Callback, Checkpoints, EarlyStopping, EvalLines, EveryEval, EveryStep, LossLog, ProgressBar,
)
