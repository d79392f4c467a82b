"""Alias of `tinytorch.core.embeddings` for older TinyTorch scripts."""
from ..nn.embeddings import Embedding, EmbeddingLayer, PositionalEncoding, SinusoidalPositionalEncoding  # noqa: F401
