"""Attention: the scaled dot-product function and multi-head self-attention.

Mask convention everywhere: 1/True means "may attend", 0/False means "blocked".
"""

from __future__ import annotations

import numpy as np

from ..core import functions as F
from ..core.autograd import no_grad
from ..core.ops.attention import attend, attention_scale, causal_allowed, merge_heads
from .layers import Linear, Module
from ..core.tensor import Tensor
from ..core.validation import as_tensor, check_bool, check_int, check_mask


def mask_to_allowed(mask, scores_shape: tuple, where: str) -> np.ndarray:
    """A user mask (1 = may attend) as a bool array that broadcasts to `scores_shape` (..., Tq, Tk)."""
    return _broadcastable(check_mask(mask, where), scores_shape, where)


def _broadcastable(allowed: np.ndarray, scores_shape: tuple, where: str) -> np.ndarray:
    """`allowed` (a checked bool mask) unchanged, or ValueError unless it broadcasts to `scores_shape`."""
    try:
        if np.broadcast_shapes(allowed.shape, scores_shape) != tuple(scores_shape):
            raise ValueError("the mask would grow the scores")
    except ValueError:
        raise ValueError(
            f"{where}: mask of shape {allowed.shape} does not broadcast to attention scores {scores_shape}"
        ) from None
    return allowed


def scaled_dot_product_attention(Q, K, V, mask=None, causal: bool = False):
    """softmax(Q K^T / sqrt(d)) V over any leading dims -> (output, weights).

    Q (..., Tq, d), K (..., Tk, d), V (..., Tk, dv). `mask` (1 = may attend) broadcasts to
    (..., Tq, Tk); `causal=True` also blocks keys after each query. The returned weights are
    for inspection and carry no gradient.
    """
    where = "scaled_dot_product_attention"
    Q, K, V = (as_tensor(t, name=name, where=where) for t, name in ((Q, "Q"), (K, "K"), (V, "V")))
    causal = check_bool(causal, "causal", "scaled_dot_product_attention")
    for name, t in (("Q", Q), ("K", K), ("V", V)):
        if t.ndim < 2:
            raise ValueError(f"scaled_dot_product_attention: {name} must be at least 2-d (..., seq_len, dim), "
                             f"got shape {t.shape}")
    if Q.shape[-1] != K.shape[-1] or K.shape[-2] != V.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: incompatible shapes Q {Q.shape}, K {K.shape}, V {V.shape}"
        )
    scores_shape = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2]) + (Q.shape[-2], K.shape[-2])
    allowed = None if mask is None else mask_to_allowed(mask, scores_shape, "scaled_dot_product_attention")
    if causal:
        tri = causal_allowed(Q.shape[-2], K.shape[-2])
        allowed = tri if allowed is None else allowed & tri
    weights = []
    out = F.scaled_dot_product_attention_fused(Q, K, V, allowed=allowed, weights_sink=weights)
    return out, Tensor(weights[0])


class MultiHeadAttention(Module):
    """Self-attention with `num_heads` heads, all batched in one fused op (no per-head loop)."""

    def __init__(self, embed_dim: int, num_heads: int):
        super().__init__()
        check_int(embed_dim, "embed_dim", "MultiHeadAttention", minimum=1)
        check_int(num_heads, "num_heads", "MultiHeadAttention", minimum=1)
        if embed_dim % num_heads != 0:
            raise ValueError(f"MultiHeadAttention: embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = embed_dim // num_heads
        self.q_proj = Linear(embed_dim, embed_dim)
        self.k_proj = Linear(embed_dim, embed_dim)
        self.v_proj = Linear(embed_dim, embed_dim)
        self.out_proj = Linear(embed_dim, embed_dim)

    def _allowed(self, x_shape: tuple, mask) -> np.ndarray | None:
        """The user mask as a bool array broadcasting to (B, H, T, T), or None (causality is the op's job)."""
        if mask is None:
            return None
        b, t, _ = x_shape
        arr = check_mask(mask, "MultiHeadAttention")
        if arr.ndim == 3:  # (B, T, T): the same mask for every head
            arr = arr[:, None]
        return _broadcastable(arr, (b, self.num_heads, t, t), "MultiHeadAttention")

    def forward(self, x, mask=None, causal: bool = False, kv_cache=None, return_attention: bool = False):
        """x (B, T, C) -> (B, T, C). With `kv_cache` (a KVCache layer slot), attends over past keys too.

        With `return_attention=True`, returns (output, weights): the (B, H, T, T_keys) attention
        probabilities as an ndarray, for inspection (they carry no gradient).
        """
        x = as_tensor(x, name="input", where="MultiHeadAttention")
        causal = check_bool(causal, "causal", "MultiHeadAttention")
        if x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiHeadAttention: expected input (batch, seq_len, {self.embed_dim}), got {x.shape}")
        if kv_cache is not None:
            out, weights = self._forward_cached(x, kv_cache)
            return (out, weights) if return_attention else out
        weights = [] if return_attention else None
        merged = F.self_attention_heads(  # the op applies `causal` itself (blockwise when there is no mask)
            x, self.q_proj.weight, self.q_proj.bias, self.k_proj.weight, self.k_proj.bias,
            self.v_proj.weight, self.v_proj.bias, num_heads=self.num_heads,
            allowed=self._allowed(x.shape, mask), causal=causal, weights_sink=weights,
        )  # (B, T, C)
        out = self.out_proj(merged)
        return (out, weights[0]) if return_attention else out

    def _forward_cached(self, x: Tensor, layer_cache) -> tuple[Tensor, np.ndarray]:
        """Inference step: the new tokens' queries attend to cached keys/values plus their own (causal).

        Returns (output, weights (B, H, T_new, T_cached + T_new))."""
        if layer_cache.qkv_projection is None:  # fused once per cache: the weights stay fixed while it is in use
            scale = attention_scale(self.head_dim)  # folded into q's projection, as the training op does
            layer_cache.qkv_projection = (
                np.concatenate([self.q_proj.weight.data * scale, self.k_proj.weight.data, self.v_proj.weight.data], axis=1),
                np.concatenate([self.q_proj.bias.data * scale, self.k_proj.bias.data, self.v_proj.bias.data]))
        weight, bias = layer_cache.qkv_projection
        b, t, c = x.shape
        qkv = (x.data @ weight + bias).reshape(b, t, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.transpose(2, 0, 3, 1, 4)  # each (B, H, T, hd)
        k_all, v_all = layer_cache.append(k, v)
        # One new token may see every cached key: no mask to build or apply.
        allowed = causal_allowed(q.shape[2], k_all.shape[2]) if q.shape[2] > 1 else None
        out, weights = attend(q, k_all, v_all, allowed, 1.0)  # q is scaled
        merged = merge_heads(out)  # (B, T, C)
        return Tensor._from_op(merged @ self.out_proj.weight.data + self.out_proj.bias.data, False), weights

    def attention_weights(self, x, mask=None, causal: bool = False) -> np.ndarray:
        """The (B, H, T, T) attention probabilities this layer gives input x (for plots and tests)."""
        with no_grad():  # forward checks x, the mask and causal
            return self.forward(x, mask=mask, causal=causal, return_attention=True)[1]

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
