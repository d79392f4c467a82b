"""TinyTorch's path `tinytorch.core.flat_params`: the code lives in `tinytorch.optim.flat_params`."""

from ..optim.flat_params import (  # noqa: F401
    FlatParameters,
)
