"""Alias of `tinytorch.core.transformer` for older TinyTorch scripts."""
from ..core.transformer import *  # noqa: F401,F403
from ..core.transformer import GPT, LayerNorm, MLP, TransformerBlock, create_causal_mask  # noqa: F401
