"""Alias of `tinytorch.core.transformer` for older TinyTorch scripts."""
from ..core.transformer import GPT, LayerNorm, MLP, TransformerBlock, create_causal_mask  # noqa: F401

__all__ = ["GPT", "LayerNorm", "MLP", "TransformerBlock", "create_causal_mask"]
