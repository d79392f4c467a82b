"""TinyTorch's path `tinytorch.core.grad_clip`: the code lives in `tinytorch.optim.grad_clip`."""

from ..optim.grad_clip import (  # noqa: F401
    clip_grad_norm,
)
