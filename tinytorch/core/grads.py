"""TinyTorch's path `tinytorch.core.grads`: the code lives in `tinytorch.optim.grads`."""

from ..optim.grads import (  # noqa: F401
    checked_grad, checked_grads, parameter_list,
)
