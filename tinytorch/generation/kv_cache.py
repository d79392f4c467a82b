"""A key/value cache for fast autoregressive generation.

Each layer keeps the keys and values of every token seen so far in preallocated buffers, so a
new token costs one token's worth of compute instead of re-running the whole prefix.
"""

from __future__ import annotations

import numpy as np

from ..core.validation import check_int


class LayerCache:
    """Keys and values of one attention layer: buffers (B, H, max_seq_len, head_dim)."""

    def __init__(self, batch_size: int, num_heads: int, max_seq_len: int, head_dim: int, dtype=np.float32):
        for name, value in (("batch_size", batch_size), ("num_heads", num_heads), ("max_seq_len", max_seq_len),
                            ("head_dim", head_dim)):
            check_int(value, name, "KVCache", minimum=1)
        self.keys = np.zeros((batch_size, num_heads, max_seq_len, head_dim), dtype=dtype)
        self.values = np.zeros_like(self.keys)
        self.length = 0

    def append(self, k_new: np.ndarray, v_new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Store (B, H, T_new, hd) keys/values after the cached ones; return all of them so far."""
        start, stop = self.length, self.length + k_new.shape[2]
        if k_new.shape[:2] != self.keys.shape[:2] or k_new.shape[3] != self.keys.shape[3]:
            raise ValueError(f"KVCache: new keys of shape {k_new.shape} do not fit a cache of shape {self.keys.shape}")
        if stop > self.keys.shape[2]:
            raise ValueError(f"KVCache: {stop} tokens exceed the cache's max_seq_len {self.keys.shape[2]}")
        self.keys[:, :, start:stop] = k_new
        self.values[:, :, start:stop] = v_new
        self.length = stop
        return self.keys[:, :, :stop], self.values[:, :, :stop]


class KVCache:
    """One LayerCache per transformer block; `length` is the number of tokens cached."""

    def __init__(self, num_layers: int, batch_size: int, num_heads: int, max_seq_len: int, head_dim: int, dtype=np.float32):
        self.max_seq_len = check_int(max_seq_len, "max_seq_len", "KVCache", minimum=1)
        check_int(num_layers, "num_layers", "KVCache", minimum=1)
        self.layers = [LayerCache(batch_size, num_heads, max_seq_len, head_dim, dtype) for _ in range(num_layers)]

    @classmethod
    def for_model(cls, model, batch_size: int = 1) -> "KVCache":
        """A cache sized for a GPT: its layers, heads, head size, context length and dtype."""
        dtype = model.token_embedding.weight.dtype
        return cls(model.num_layers, batch_size, model.num_heads, model.max_seq_len, model.embed_dim // model.num_heads, dtype)

    @property
    def length(self) -> int:
        return self.layers[0].length

    def layer(self, i: int) -> LayerCache:
        return self.layers[i]

    def reset(self) -> None:
        for layer in self.layers:
            layer.length = 0
