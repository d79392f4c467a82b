"""TinyTorch's path `tinytorch.core.embeddings`: the code lives in `tinytorch.nn.embeddings`."""

from ..nn.embeddings import (  # noqa: F401
    Embedding, EmbeddingLayer, PositionalEncoding, SinusoidalPositionalEncoding, sinusoidal_table,
)
