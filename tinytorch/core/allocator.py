"""TinyTorch's path `tinytorch.core.allocator`: the code lives in `tinytorch.runtime.allocator`."""

from ..runtime.allocator import (  # noqa: F401
    MMAP_THRESHOLD, TRIM_THRESHOLD, keep_freed_memory,
)
