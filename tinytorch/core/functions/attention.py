"""The older path `tinytorch.core.functions.attention`: the code lives in `tinytorch.core.ops.attention`."""

from ..ops.attention import (  # noqa: F401
    ScaledDotProductAttention, SelfAttentionHeads, attend, attention_scale, blocked_positions,
    causal_allowed, merge_heads, scores_grad, split_heads,
)
