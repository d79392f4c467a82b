"""TinyTorch's path `tinytorch.core.tokenizer_base`: the code lives in `tinytorch.text.tokenizer_base`."""

from ..text.tokenizer_base import (  # noqa: F401
    FORMAT_VERSION, Tokenizer,
)
