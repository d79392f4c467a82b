"""The older path `tinytorch.core.functions.shape`: the code lives in `tinytorch.core.ops.shape`."""

from ..ops.shape import (  # noqa: F401
    Concatenate, GetItem, Permute, Reshape, Stack, Transpose,
)
