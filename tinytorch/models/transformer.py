"""TinyTorch's path `tinytorch.models.transformer`: the GPT and its blocks live in `tinytorch.nn.transformer`."""

from ..nn.transformer import GPT, MLP, LayerNorm, TransformerBlock, create_causal_mask  # noqa: F401

__all__ = ["GPT", "LayerNorm", "MLP", "TransformerBlock", "create_causal_mask"]
