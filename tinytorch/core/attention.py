"""TinyTorch's path `tinytorch.core.attention`: the code lives in `tinytorch.nn.attention`."""

from ..nn.attention import (  # noqa: F401
    MultiHeadAttention, mask_to_allowed, scaled_dot_product_attention,
)
