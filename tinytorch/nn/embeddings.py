"""Embeddings: token lookup tables and positional encodings (learned or sinusoidal)."""

from __future__ import annotations

import math

import numpy as np

from ..core import functions as F
from .layers import Module, Parameter, layer_input
from ..core.random import get_rng
from ..core.tensor import Tensor
from ..core.validation import as_tensor, as_token_ids, check_bool, check_choice, check_int


class Embedding(Module):
    """A (vocab_size, embed_dim) table; ids of any shape -> (*ids.shape, embed_dim)."""

    def __init__(self, vocab_size: int, embed_dim: int):
        super().__init__()
        self.vocab_size = check_int(vocab_size, "vocab_size", "Embedding", minimum=1)
        self.embed_dim = check_int(embed_dim, "embed_dim", "Embedding", minimum=1)
        self.weight = Parameter(get_rng().standard_normal((vocab_size, embed_dim)).astype(np.float32))

    def forward(self, ids) -> Tensor:
        return F.embedding(self.weight, as_token_ids(ids, self.vocab_size, "Embedding"))

    def extra_repr(self) -> str:
        return f"{self.vocab_size}, {self.embed_dim}"


def sinusoidal_table(max_seq_len: int, embed_dim: int) -> np.ndarray:
    """The fixed sin/cos position table of "Attention Is All You Need": (max_seq_len, embed_dim)."""
    positions = np.arange(max_seq_len)[:, None]  # (T, 1)
    rates = np.exp(-math.log(10000.0) * np.arange(0, embed_dim, 2) / embed_dim)  # (ceil(D/2),)
    table = np.zeros((max_seq_len, embed_dim))
    table[:, 0::2] = np.sin(positions * rates)
    table[:, 1::2] = np.cos(positions * rates[: embed_dim // 2])
    return table.astype(np.float32)


def _check_sizes(max_seq_len, embed_dim, where: str) -> tuple[int, int]:
    return (check_int(max_seq_len, "max_seq_len", where, minimum=1),
            check_int(embed_dim, "embed_dim", where, minimum=1))


def _check_length(x: Tensor, max_seq_len: int, embed_dim: int, where: str) -> int:
    if x.ndim < 2 or x.shape[-1] != embed_dim:
        raise ValueError(f"{where}: expected input of shape (..., seq_len, {embed_dim}), got {x.shape}")
    seq_len = x.shape[-2]
    if seq_len > max_seq_len:
        raise ValueError(f"{where}: sequence length {seq_len} exceeds max_seq_len {max_seq_len}")
    return seq_len


class PositionalEncoding(Module):
    """Learned positions: adds `position_embeddings[:T]` to a (B, T, D) input."""

    def __init__(self, max_seq_len: int, embed_dim: int):
        super().__init__()
        self.max_seq_len, self.embed_dim = _check_sizes(max_seq_len, embed_dim, "PositionalEncoding")
        self.position_embeddings = Parameter((0.02 * get_rng().standard_normal((max_seq_len, embed_dim))).astype(np.float32))

    def forward(self, x: Tensor) -> Tensor:
        x = layer_input(x, self.position_embeddings, "PositionalEncoding")
        seq_len = _check_length(x, self.max_seq_len, self.embed_dim, "PositionalEncoding")
        return x + self.position_embeddings[:seq_len]


class SinusoidalPositionalEncoding(Module):
    """Fixed sin/cos positions (no parameters): adds table[:T] to a (B, T, D) input."""

    def __init__(self, max_seq_len: int, embed_dim: int):
        super().__init__()
        self.max_seq_len, self.embed_dim = _check_sizes(max_seq_len, embed_dim, "SinusoidalPositionalEncoding")
        self.table = sinusoidal_table(max_seq_len, embed_dim)

    def forward(self, x: Tensor) -> Tensor:
        x = as_tensor(x, name="input", where="SinusoidalPositionalEncoding")
        seq_len = _check_length(x, self.max_seq_len, self.embed_dim, "SinusoidalPositionalEncoding")
        return x + self.table[:seq_len].astype(x.dtype, copy=False)


class EmbeddingLayer(Module):
    """Token embedding plus positional encoding in one module: ids (B, T) -> (B, T, D)."""

    def __init__(self, vocab_size: int, embed_dim: int, max_seq_len: int = 512,
                 pos_encoding: str | None = "learned", scale_embeddings: bool = False):
        super().__init__()
        check_bool(scale_embeddings, "scale_embeddings", "EmbeddingLayer")
        check_choice(pos_encoding, ("learned", "sinusoidal", None), "pos_encoding", "EmbeddingLayer")
        self.token_embedding = Embedding(vocab_size, embed_dim)
        if pos_encoding == "learned":
            self.pos_encoding = PositionalEncoding(max_seq_len, embed_dim)
        elif pos_encoding == "sinusoidal":
            self.pos_encoding = SinusoidalPositionalEncoding(max_seq_len, embed_dim)
        elif pos_encoding is None:
            self.pos_encoding = None
        else:
            raise ValueError(f"EmbeddingLayer: pos_encoding must be 'learned', 'sinusoidal' or None, got {pos_encoding!r}")
        self.scale = math.sqrt(embed_dim) if scale_embeddings else None
        self.max_seq_len = int(max_seq_len)

    def forward(self, ids) -> Tensor:
        x = self.token_embedding(ids)
        if self.scale is not None:
            x = x * self.scale
        if self.pos_encoding is not None:
            x = self.pos_encoding(x)
        return x
