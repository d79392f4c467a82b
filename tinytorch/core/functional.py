"""TinyTorch's path `tinytorch.core.functional`: the code lives in `tinytorch.nn.functional`."""

from ..nn.functional import (  # noqa: F401
    cross_entropy, dropout, embedding, gelu, layer_norm, linear, log_softmax, mse_loss, relu,
    scaled_dot_product_attention, sigmoid, softmax, tanh,
)
