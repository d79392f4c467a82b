"""TinyTorch's path `tinytorch.core.activations`: the code lives in `tinytorch.nn.activations`."""

from ..nn.activations import (  # noqa: F401
    GELU, ReLU, Sigmoid, Softmax, Tanh,
)
