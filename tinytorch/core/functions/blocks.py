"""The older path `tinytorch.core.functions.blocks`: the code lives in `tinytorch.core.ops.blocks`."""

from ..ops.blocks import (  # noqa: F401
    BLOCK_ELEMENTS, flat_blocks, in_blocks, row_blocks,
)
