"""The older path `tinytorch.core.functions.causal_attention`: the code lives in `tinytorch.core.ops.causal_attention`."""

from ..ops.causal_attention import (  # noqa: F401
    BLOCK, LARGEST_SUM, causal_backward, causal_forward, dense_weights, exp_shifted, worth_blocking,
)
