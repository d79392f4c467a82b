"""The older path `tinytorch.core.functions.matmul`: the code lives in `tinytorch.core.ops.matmul`."""

from ..ops.matmul import (  # noqa: F401
    Linear, MatMul, check_matmul_shapes,
)
