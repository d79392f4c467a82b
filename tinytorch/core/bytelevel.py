"""TinyTorch's path `tinytorch.core.bytelevel`: the code lives in `tinytorch.text.bytelevel`."""

from ..text.bytelevel import (  # noqa: F401
    GPT2_SPLIT_PATTERN, bytes_to_token, bytes_to_unicode, gpt2_split_regex, token_to_bytes,
    unicode_to_bytes,
)
