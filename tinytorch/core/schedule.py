"""TinyTorch's path `tinytorch.core.schedule`: the code lives in `tinytorch.optim.schedule`."""

from ..optim.schedule import (  # noqa: F401
    CosineSchedule,
)
