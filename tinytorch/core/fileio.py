"""TinyTorch's path `tinytorch.core.fileio`: the code lives in `tinytorch.runtime.fileio`."""

from ..runtime.fileio import (  # noqa: F401
    as_path, atomic_write, check_writable, short_list,
)
