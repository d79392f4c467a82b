"""TinyTorch's path `tinytorch.core.tokenization`: the code lives in `tinytorch.text.tokenization`."""

from ..text.tokenization import (  # noqa: F401
    BPETokenizer, CharTokenizer, Tokenizer,
)
