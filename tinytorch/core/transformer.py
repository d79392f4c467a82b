"""TinyTorch's path `tinytorch.core.transformer`: the code lives in `tinytorch.nn.transformer`."""

from ..nn.transformer import (  # noqa: F401
    GPT, LayerNorm, MLP, TransformerBlock, create_causal_mask,
)
