"""TinyTorch's path `tinytorch.core.checkpoint`: the code lives in `tinytorch.training.checkpoint`."""

from ..training.checkpoint import (  # noqa: F401
    FORMAT_NAME, FORMAT_VERSION, MAX_HEADER_BYTES, METADATA_KEY, load_checkpoint, read_checkpoint,
    save_checkpoint,
)
