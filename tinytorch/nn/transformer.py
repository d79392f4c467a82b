"""The transformer: LayerNorm, MLP, the pre-norm TransformerBlock, and a GPT language model."""

from __future__ import annotations

import math

import numpy as np

from ..core import functions as F
from .attention import MultiHeadAttention
from .config import GPTConfig
from .embeddings import Embedding
from ..core.ops.elementwise import GELU as _GELUOp
from ..core.ops.matmul import Linear as _LinearOp
from ..core.ops.normalization import LayerNorm as _LayerNormOp
from .layers import Dropout, Linear, Module, ModuleList, Parameter, layer_input
from .activations import GELU
from ..core.random import get_rng
from ..core.tensor import Tensor
from ..core.validation import as_token_ids, check_float, check_int


def create_causal_mask(seq_len: int) -> Tensor:
    """(1, T, T) mask with 1 where query i may attend to key j (j <= i), 0 elsewhere."""
    seq_len = check_int(seq_len, "seq_len", "create_causal_mask", minimum=1)
    return Tensor(np.tril(np.ones((seq_len, seq_len), dtype=np.float32))[None])


class LayerNorm(Module):
    """Normalise the last axis to zero mean, unit variance, then scale by gamma and shift by beta."""

    def __init__(self, normalized_shape: int, eps: float = 1e-5):
        super().__init__()
        shape = tuple(normalized_shape) if isinstance(normalized_shape, (tuple, list)) else (normalized_shape,)
        size = int(np.prod([check_int(n, "normalized_shape", "LayerNorm", minimum=1) for n in shape]))
        self.normalized_shape = size
        self.eps = check_float(eps, "eps", "LayerNorm", minimum=0.0, min_inclusive=False)
        self.gamma = Parameter(np.ones(size, dtype=np.float32))
        self.beta = Parameter(np.zeros(size, dtype=np.float32))

    def forward(self, x) -> Tensor:
        x = layer_input(x, self.gamma, "LayerNorm")
        if x.ndim == 0:
            raise ValueError(f"LayerNorm: expected input of shape (..., {self.normalized_shape}), got a 0-d tensor")
        if x.shape[-1] != self.normalized_shape:
            raise ValueError(f"LayerNorm: last dimension {x.shape[-1]} does not match normalized_shape {self.normalized_shape}")
        # the op itself: eps was checked in __init__ (F.layer_norm would check it again every call)
        return _LayerNormOp.apply(x, self.gamma, self.beta, eps=self.eps)

    def decode(self, x: np.ndarray) -> np.ndarray:
        """forward on an array, for generation: the same op's arithmetic, no Tensor, checks or graph."""
        return _LayerNormOp().forward(x, self.gamma.data, self.beta.data, eps=self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"


def _dropout_rate(dropout: float, dropout_prob: float | None, where: str) -> float:
    """TinyTorch spells the rate `dropout_prob=`, tinytorch `dropout=`: either one, not both; in [0, 1)."""
    name, rate = ("dropout", dropout) if dropout_prob is None else ("dropout_prob", dropout_prob)
    if dropout_prob is not None and check_float(dropout, "dropout", where) != 0:
        raise TypeError(f"{where}: give dropout= or dropout_prob=, not both (got dropout={dropout!r}, "
                        f"dropout_prob={dropout_prob!r})")
    if not 0.0 <= check_float(rate, name, where) < 1.0:
        raise ValueError(f"{where}: {name} must be in [0, 1), got {rate}")
    return float(rate)


class MLP(Module):
    """The position-wise feed-forward network: linear1 -> GELU -> linear2, then dropout (none by default)."""

    def __init__(self, embed_dim: int, hidden_dim: int | None = None, dropout: float = 0.0,
                 dropout_prob: float | None = None):
        super().__init__()
        check_int(embed_dim, "embed_dim", "MLP", minimum=1)
        hidden_dim = 4 * embed_dim if hidden_dim is None else check_int(hidden_dim, "hidden_dim", "MLP", minimum=1)
        rate = _dropout_rate(dropout, dropout_prob, "MLP")  # checked before any weight draws from the RNG
        self.linear1 = Linear(embed_dim, hidden_dim)
        self.gelu = GELU()
        self.linear2 = Linear(hidden_dim, embed_dim)
        self.dropout = Dropout(rate)

    def forward(self, x) -> Tensor:
        return self.dropout(self.linear2(self.gelu(self.linear1(x))))

    def decode(self, x: np.ndarray) -> np.ndarray:
        """forward on an array in eval mode, for generation: the same ops' arithmetic, no Tensors or graph."""
        hidden = _LinearOp().forward(x, self.linear1.weight.data, self.linear1.bias.data)
        hidden = _GELUOp().forward(hidden, approximate=self.gelu.approximate)
        return _LinearOp().forward(hidden, self.linear2.weight.data, self.linear2.bias.data)


class TransformerBlock(Module):
    """Pre-norm block: x + attention(ln1(x)), then + mlp(ln2(.)); dropout on each branch."""

    def __init__(self, embed_dim: int, num_heads: int, mlp_ratio: int = 4, dropout: float = 0.0,
                 layer_norm_eps: float = 1e-5, dropout_prob: float | None = None):
        super().__init__()
        check_int(embed_dim, "embed_dim", "TransformerBlock", minimum=1)
        check_float(mlp_ratio, "mlp_ratio", "TransformerBlock", minimum=0.0, min_inclusive=False)
        rate = _dropout_rate(dropout, dropout_prob, "TransformerBlock")  # checked before any weight is drawn
        self.ln1 = LayerNorm(embed_dim, layer_norm_eps)
        self.attention = MultiHeadAttention(embed_dim, num_heads)
        self.ln2 = LayerNorm(embed_dim, layer_norm_eps)
        self.mlp = MLP(embed_dim, int(mlp_ratio * embed_dim))
        self.dropout = Dropout(rate)

    def forward(self, x, mask=None, causal: bool = False, kv_cache=None, return_attention: bool = False):
        """x (B, T, C) -> (B, T, C); with `return_attention=True`, (output, (B, H, T, T) attention weights)."""
        attended = self.attention(self.ln1(x), mask=mask, causal=causal, kv_cache=kv_cache,
                                  return_attention=return_attention)
        if return_attention:
            attended, weights = attended
        x = x + self.dropout(attended)
        x = x + self.dropout(self.mlp(self.ln2(x)))
        return (x, weights) if return_attention else x

    def decode(self, x: np.ndarray, layer_cache) -> np.ndarray:
        """forward with a KV-cache slot in eval mode, on arrays (B, T, C): bit for bit the same values,
        without the Tensors, checks and modules' calls that would cost more than a token's arithmetic."""
        x = x + self.attention.decode(self.ln1.decode(x), layer_cache)[0]
        return x + self.mlp.decode(self.ln2.decode(x))


class GPT(Module):
    """A decoder-only transformer language model: ids (B, T) -> next-token logits (B, T, V).

    Always causal. Parameters: token and position embeddings, L blocks of 16, ln_f and an
    untied lm_head (2 + 16 L + 3 in all).
    """

    def __init__(self, vocab_size: int | GPTConfig, embed_dim: int | None = None, num_layers: int | None = None,
                 num_heads: int | None = None, max_seq_len: int = 1024, dropout: float = 0.0, mlp_ratio: int = 4,
                 layer_norm_eps: float = 1e-5):
        super().__init__()
        if isinstance(vocab_size, GPTConfig):  # GPT(config)
            sizes = (embed_dim, num_layers, num_heads, max_seq_len, dropout, mlp_ratio, layer_norm_eps)
            if sizes != (None, None, None, 1024, 0.0, 4, 1e-5):
                raise TypeError("GPT: give a GPTConfig or the sizes (vocab_size, embed_dim, ...), not both")
            self.config = vocab_size
        else:
            self.config = GPTConfig(vocab_size, embed_dim=embed_dim, num_layers=num_layers, num_heads=num_heads,
                                    max_seq_len=max_seq_len, dropout=dropout, mlp_ratio=mlp_ratio,
                                    layer_norm_eps=layer_norm_eps)  # TinyTorch's names, so errors use them
        cfg = self.config
        self.token_embedding = Embedding(cfg.vocab_size, cfg.embed_dim)
        self.position_embedding = Embedding(cfg.max_seq_len, cfg.embed_dim)
        self.drop = Dropout(cfg.dropout)
        self.blocks = ModuleList([TransformerBlock(cfg.embed_dim, cfg.num_heads, cfg.mlp_ratio, cfg.dropout,
                                                   layer_norm_eps=cfg.layer_norm_eps) for _ in range(cfg.num_layers)])
        self.ln_f = LayerNorm(cfg.embed_dim, cfg.layer_norm_eps)
        self.lm_head = Linear(cfg.embed_dim, cfg.vocab_size, bias=False)
        self._init_weights()

    # Read-only views of the config, for code that asks the model for its shape (TinyTorch's names).
    vocab_size = property(lambda self: self.config.vocab_size)
    embed_dim = property(lambda self: self.config.embed_dim)
    num_layers = property(lambda self: self.config.num_layers)
    num_heads = property(lambda self: self.config.num_heads)
    max_seq_len = property(lambda self: self.config.max_seq_len)

    def _init_weights(self) -> None:
        """GPT-2's scheme: N(0, 0.02) weights, zero biases, residual projections scaled by 1/sqrt(2L)."""
        rng = get_rng()
        residual_std = 0.02 / math.sqrt(2 * self.num_layers)
        for name, p in self.named_parameters():
            if name.endswith(("gamma", "beta")):
                continue
            if name.endswith("bias"):
                p.data[...] = 0.0
            else:
                std = residual_std if name.endswith(("out_proj.weight", "linear2.weight")) else 0.02
                p.data[...] = rng.normal(0.0, std, p.shape)

    def forward(self, tokens, kv_cache=None, return_attention: bool = False):
        """tokens (B, T) integer ids -> logits (B, T, vocab_size). With `kv_cache`, tokens continue the cached prefix.

        With `return_attention=True`, returns (logits, weights): one (B, H, T, T_keys) ndarray of
        attention probabilities per layer, for inspection (they carry no gradient).
        """
        ids = as_token_ids(tokens, self.vocab_size, "GPT.forward")
        if ids.ndim != 2:
            raise ValueError(f"GPT.forward: expected ids of shape (batch, seq_len), got {ids.shape}; use ids[None] for one sequence")
        if ids.size == 0:
            raise ValueError(f"GPT.forward: expected at least one token id, got ids of shape {ids.shape}")
        start = 0 if kv_cache is None else kv_cache.length
        seq_len = ids.shape[1]
        if start + seq_len > self.max_seq_len:
            raise ValueError(f"GPT.forward: sequence length {start + seq_len} exceeds max_seq_len {self.max_seq_len}")
        x = F.token_position_embedding(self.token_embedding.weight, self.position_embedding.weight, ids, start)
        if kv_cache is not None and not return_attention and not self.training:  # generation: arrays only
            h = x.data  # (B, T, C)
            for i, block in enumerate(self.blocks):
                h = block.decode(h, kv_cache.layer(i))
            return Tensor._from_op(_LinearOp().forward(self.ln_f.decode(h), self.lm_head.weight.data), False)
        x = self.drop(x)  # (B, T, C)
        maps = []
        for i, block in enumerate(self.blocks):
            x = block(x, causal=True, kv_cache=None if kv_cache is None else kv_cache.layer(i),
                      return_attention=return_attention)
            if return_attention:
                x, weights = x
                maps.append(weights)
        logits = self.lm_head(self.ln_f(x))  # (B, T, V)
        return (logits, maps) if return_attention else logits

    def generate(self, prompt_ids, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None, **options):
        """Sample continuation ids; see `tinytorch.generation.generate` for every option."""
        from ..generation import generate

        return generate(self, prompt_ids, max_new_tokens, temperature=temperature, top_k=top_k, **options)
