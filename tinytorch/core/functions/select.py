"""The older path `tinytorch.core.functions.select`: the code lives in `tinytorch.core.ops.select`."""

from ..ops.select import (  # noqa: F401
    MaskedFill, TakeAlong, Where,
)
