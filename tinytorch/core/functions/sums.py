"""The older path `tinytorch.core.functions.sums`: the code lives in `tinytorch.core.ops.sums`."""

from ..ops.sums import (  # noqa: F401
    dot_last, mean_last, sum_columns, sum_last, sum_leading,
)
