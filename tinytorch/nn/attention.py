"""Attention: the scaled dot-product function and multi-head self-attention.

Mask convention everywhere: 1/True means "may attend", 0/False means "blocked"; a float mask holding
other values is added to the scores, as PyTorch's `attn_mask` (the rule: attention_masks.py).
"""

from __future__ import annotations

import numpy as np

from ..core import functions as F
from .attention_masks import additive_mask, attention_with_bias
from ..core.autograd import no_grad
from ..core.ops.attention import attend, attention_scale, causal_allowed, merge_heads, project_heads
from .layers import Linear, Module, layer_input
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
    if len({t.dtype for t in (Q, K, V) if t.dtype.kind == "f"}) > 1:  # as torch: no silent change of precision
        raise TypeError(f"{where}: Q, K and V must share one float dtype, got {Q.dtype}, {K.dtype} and {V.dtype}")
    for name, t in (("Q", Q), ("K", K), ("V", V)):
        if t.ndim < 2:
            raise ValueError(f"scaled_dot_product_attention: {name} must be at least 2-d (..., seq_len, dim), "
                             f"got shape {t.shape}")
    if Q.shape[-1] != K.shape[-1] or K.shape[-2] != V.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: incompatible shapes Q {Q.shape}, K {K.shape}, V {V.shape}"
        )
    bias = additive_mask(mask, where)
    if bias is not None:
        out, weights = attention_with_bias(Q, K, V, bias, causal, where)
        return out, Tensor(weights)
    scores_shape = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2]) + (Q.shape[-2], K.shape[-2])
    allowed = None if mask is None else mask_to_allowed(mask, scores_shape, "scaled_dot_product_attention")
    if causal:
        tri = causal_allowed(Q.shape[-2], K.shape[-2])
        allowed = tri if allowed is None else allowed & tri
    weights = []
    out = F.scaled_dot_product_attention_fused(Q, K, V, allowed=allowed, weights_sink=weights)
    return out, Tensor(weights[0])


class MultiHeadAttention(Module):
    """Self-attention with `num_heads` heads, all batched in one fused op (no per-head loop).

    q, k and v are stored as one (C, 3C) weight and (3C,) bias, GPT-2's `c_attn` layout: `q_proj`,
    `k_proj` and `v_proj` are Linears whose parameters are column blocks (views) of it, so their
    names, state-dict entries and optimizer state are TinyTorch's while training, the KV cache and the
    Hugging Face export all read one array.
    """

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
        self._fuse_qkv()

    def _fuse_qkv(self) -> None:
        """Join q, k, v's current values into one (C, 3C) weight and (3C,) bias; their `.data` become its views."""
        projections = (self.q_proj, self.k_proj, self.v_proj)
        weight = np.concatenate([p.weight.data for p in projections], axis=1)  # (C, 3C)
        bias = np.concatenate([p.bias.data for p in projections])  # (3C,)
        c = self.embed_dim
        for i, p in enumerate(projections):
            p.weight.data, p.bias.data = weight[:, i * c : (i + 1) * c], bias[i * c : (i + 1) * c]
        self._qkv = (weight, bias)  # plain arrays: the registered parameters are the views

    def qkv(self) -> tuple[np.ndarray, np.ndarray]:
        """The fused (C, 3C) weight and (3C,) bias of q|k|v. If a projection's `.data` was replaced by
        another array (a user, a deep copy), its values are joined again first, so this is always current."""
        weight, bias = self._qkv
        for p in (self.q_proj, self.k_proj, self.v_proj):
            if p.weight.data.base is not weight or p.bias.data.base is not bias:
                self._fuse_qkv()
                return self._qkv
        return weight, bias

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
        x = layer_input(x, self.q_proj.weight, "MultiHeadAttention")
        causal = check_bool(causal, "causal", "MultiHeadAttention")
        if x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiHeadAttention: expected input (batch, seq_len, {self.embed_dim}), got {x.shape}")
        if kv_cache is not None:
            out, weights = self._forward_cached(x, kv_cache)
            return (out, weights) if return_attention else out
        bias = additive_mask(mask, "MultiHeadAttention")
        if bias is not None:  # a float mask added to the scores: the composite path
            b, t, c = x.shape
            q, k, v = ((proj(x).reshape(b, t, self.num_heads, self.head_dim).transpose(1, 2))  # (B, H, T, hd)
                       for proj in (self.q_proj, self.k_proj, self.v_proj))
            out, weights = attention_with_bias(q, k, v, bias[:, None] if bias.ndim == 3 else bias, causal,
                                               "MultiHeadAttention")
            out = self.out_proj(out.transpose(1, 2).reshape(b, t, c))
            return (out, weights) if return_attention else out
        weights = [] if return_attention else None
        merged = F.self_attention_heads(  # the op applies `causal` itself (blockwise when there is no mask)
            x, self.q_proj.weight, self.q_proj.bias, self.k_proj.weight, self.k_proj.bias,
            self.v_proj.weight, self.v_proj.bias, num_heads=self.num_heads,
            allowed=self._allowed(x.shape, mask), causal=causal, weights_sink=weights, qkv=self.qkv(),
        )  # (B, T, C)
        out = self.out_proj(merged)
        return (out, weights[0]) if return_attention else out

    def _forward_cached(self, x: Tensor, layer_cache) -> tuple[Tensor, np.ndarray]:
        """Inference step: the new tokens' queries attend to cached keys/values plus their own (causal).

        Returns (output, weights (B, H, T_new, T_cached + T_new))."""
        out, weights = self.decode(x.data, layer_cache)
        return Tensor._from_op(out, False), weights

    def decode(self, x: np.ndarray, layer_cache) -> tuple[np.ndarray, np.ndarray]:
        """`_forward_cached` on arrays: x (B, T, C) -> (output (B, T, C), weights), for generation's loop."""
        weight, bias = self.qkv()
        b, t, c = x.shape
        q, k, v = project_heads(x.reshape(b * t, c), weight, bias, x.shape, self.num_heads, False)  # (B, H, T, hd)
        k_all, v_all = layer_cache.append(k, v)
        # One new token may see every cached key: no mask to build or apply.
        allowed = causal_allowed(q.shape[2], k_all.shape[2]) if q.shape[2] > 1 else None
        out, weights = attend(q, k_all, v_all, allowed, 1.0)  # q is scaled
        merged = merge_heads(out)  # (B, T, C)
        return merged @ self.out_proj.weight.data + self.out_proj.bias.data, weights

    def attention_weights(self, x, mask=None, causal: bool = False) -> np.ndarray:
        """The (B, H, T, T) attention probabilities this layer gives input x (for plots and tests)."""
        with no_grad():  # forward checks x, the mask and causal
            return self.forward(x, mask=mask, causal=causal, return_attention=True)[1]

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
