"""The older path `tinytorch.core.functions.reduce`: the code lives in `tinytorch.core.ops.reduce`."""

from ..ops.reduce import (  # noqa: F401
    Max, Mean, Sum, ValuesIndices, Var, resolve_axis,
)
