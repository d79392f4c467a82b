"""TinyTorch's path `tinytorch.core.layers`: the code lives in `tinytorch.nn.layers`."""

from ..nn.layers import (  # noqa: F401
    Dropout, Layer, Linear, Module, ModuleList, Parameter, Sequential,
)
