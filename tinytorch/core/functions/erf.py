"""The older path `tinytorch.core.functions.erf`: the code lives in `tinytorch.core.ops.erf`."""

from ..ops.erf import (  # noqa: F401
    erf,
)
