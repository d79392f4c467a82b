"""TinyTorch's path `tinytorch.core.config`: the code lives in `tinytorch.nn.config`."""

from ..nn.config import (  # noqa: F401
    GPTConfig, check_block_count,
)
