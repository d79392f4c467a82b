"""Alias of `tinytorch.core.embeddings` for older TinyTorch scripts."""
from ..core.embeddings import Embedding, EmbeddingLayer, PositionalEncoding, SinusoidalPositionalEncoding  # noqa: F401
