"""TinyTorch's path `tinytorch.core.optimizers`: the code lives in `tinytorch.optim.optimizers`."""

from ..optim.optimizers import (  # noqa: F401
    Adam, AdamW, Optimizer, SGD,
)
