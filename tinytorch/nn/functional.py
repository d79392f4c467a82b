"""PyTorch-style path `tinytorch.nn.functional` (`import tinytorch.nn.functional as F`): see `tinytorch.core.functional`."""

from ..core.functional import (  # noqa: F401
    cross_entropy, dropout, embedding, gelu, layer_norm, linear, log_softmax, mse_loss, relu,
    scaled_dot_product_attention, sigmoid, softmax, tanh,
)
from ..core.functional import __all__  # noqa: F401
