"""TinyTorch's path `tinytorch.core.bpe`: the code lives in `tinytorch.text.bpe`."""

from ..text.bpe import (  # noqa: F401
    BPETokenizer, GPT2_SPLIT_PATTERN, MAX_MEAN_TOKEN_BYTES, SPLIT_PATTERN,
)
