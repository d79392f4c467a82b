"""The older path `tinytorch.core.functions.normalization`: the code lives in `tinytorch.core.ops.normalization`."""

from ..ops.normalization import (  # noqa: F401
    BLOCK_ELEMENTS, LayerNorm,
)
