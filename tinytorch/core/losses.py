"""TinyTorch's path `tinytorch.core.losses`: the code lives in `tinytorch.nn.losses`."""

from ..nn.losses import (  # noqa: F401
    BinaryCrossEntropyLoss, CrossEntropyLoss, MSELoss, log_softmax,
)
