"""Alias of `tinytorch.core.tokenization` (the older TinyTorch import path)."""

from tinytorch.core.tokenization import BPETokenizer, CharTokenizer, Tokenizer  # noqa: F401
