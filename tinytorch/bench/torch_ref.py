"""The benchmarks' PyTorch eager reference: the same GPT (pre-norm, tanh GELU, causal attention, untied
lm_head), training step and generation loop, starting from a tinytorch GPT's weights. Needs torch."""

# torch is imported inside the functions, so this module (and the package) imports without it;
# the torch classes are built on first use by `_torch_classes`.

from __future__ import annotations

import functools

import numpy as np


def require_torch(purpose: str = "the PyTorch comparison"):
    """The torch module, or an ImportError that says how to install the pinned version."""
    try:
        import torch
    except ImportError as exc:
        raise ImportError(f"{purpose} needs PyTorch, which is not installed: "
                          f"python3 -m pip install torch==2.13.0") from exc
    return torch


def _param(array: np.ndarray):
    torch = require_torch()
    return torch.nn.Parameter(torch.tensor(np.array(array, dtype=np.float32)))


def _linear(lin):
    """A torch Linear holding a tinytorch Linear's weights (tinytorch stores W as (in, out))."""
    out = require_torch().nn.Linear(lin.in_features, lin.out_features, bias=lin.bias is not None)
    out.weight = _param(lin.weight.data.T)
    if lin.bias is not None:
        out.bias = _param(lin.bias.data)
    return out


def _layer_norm(ln):
    out = require_torch().nn.LayerNorm(ln.normalized_shape, eps=ln.eps)
    out.weight, out.bias = _param(ln.gamma.data), _param(ln.beta.data)
    return out


@functools.cache
def _torch_classes() -> tuple:
    """(TorchBlock, TorchGPT): nn.Module classes, defined once torch is known to be installed."""
    torch = require_torch()
    nn, TF = torch.nn, torch.nn.functional

    class TorchBlock(nn.Module):
        """Pre-norm block with one fused QKV projection (nanoGPT's layout) and torch's fused attention."""

        def __init__(self, block):
            super().__init__()
            att = block.attention
            self.num_heads = att.num_heads
            self.ln1, self.ln2 = _layer_norm(block.ln1), _layer_norm(block.ln2)
            c = att.embed_dim
            self.qkv = nn.Linear(c, 3 * c)
            self.qkv.weight = _param(np.concatenate([att.q_proj.weight.data, att.k_proj.weight.data,
                                                     att.v_proj.weight.data], axis=1).T)
            self.qkv.bias = _param(np.concatenate([att.q_proj.bias.data, att.k_proj.bias.data, att.v_proj.bias.data]))
            self.out_proj = _linear(att.out_proj)
            self.fc1, self.fc2 = _linear(block.mlp.linear1), _linear(block.mlp.linear2)

        def attention(self, x, cache=None):
            b, t, c = x.shape
            q, k, v = self.qkv(x).view(b, t, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
            if cache is not None:  # cache: dict holding the keys/values of earlier tokens
                if "k" in cache:
                    k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
                cache["k"], cache["v"] = k, v
            # With a cache, t new queries see all earlier keys: causal only when the queries start at 0.
            causal = t > 1 and k.shape[2] == t
            y = TF.scaled_dot_product_attention(q, k, v, is_causal=causal)  # (B, H, T, hd)
            return self.out_proj(y.transpose(1, 2).reshape(b, t, c))

        def forward(self, x, cache=None):
            x = x + self.attention(self.ln1(x), cache)
            return x + self.fc2(TF.gelu(self.fc1(self.ln2(x)), approximate="tanh"))

    class TorchGPT(nn.Module):
        """A torch copy of a tinytorch GPT (same weights, float32)."""

        def __init__(self, gpt):
            super().__init__()
            self.tok = nn.Embedding(gpt.vocab_size, gpt.embed_dim)
            self.tok.weight = _param(gpt.token_embedding.weight.data)
            self.pos = nn.Embedding(gpt.max_seq_len, gpt.embed_dim)
            self.pos.weight = _param(gpt.position_embedding.weight.data)
            self.blocks = nn.ModuleList([TorchBlock(b) for b in gpt.blocks])
            self.ln_f = _layer_norm(gpt.ln_f)
            self.lm_head = _linear(gpt.lm_head)

        def forward(self, ids, caches=None, start: int = 0):
            t = ids.shape[1]
            x = self.tok(ids) + self.pos(torch.arange(start, start + t))
            for i, block in enumerate(self.blocks):
                x = block(x, None if caches is None else caches[i])
            return self.lm_head(self.ln_f(x))

    return TorchBlock, TorchGPT


def TorchGPT(gpt):
    """A torch copy of a tinytorch GPT (same weights, float32)."""
    return _torch_classes()[1](gpt)


def make_train_step(model, train, fused_adam: bool = False):
    """The plan's step in torch: forward, mean cross-entropy, backward, clipping, Adam, with the rate, betas
    and clipping of `train` (a TrainConfig whose optimizer is "adam", as the plan's recipe writes it).

    `fused_adam=True` uses torch's opt-in fused CPU kernel (same update, fewer kernel launches), the
    fastest Adam torch offers.
    """
    torch = require_torch()
    nn, TF = torch.nn, torch.nn.functional
    if train.optimizer != "adam" or train.weight_decay or train.decay_lr:
        raise ValueError(f"make_train_step: the torch step is Adam without weight decay or schedule, got {train}")
    optimizer = torch.optim.Adam(model.parameters(), lr=train.learning_rate, betas=(train.beta1, train.beta2),
                                 fused=True if fused_adam else None)
    clip_value, clip_norm = train.grad_clip_value or None, train.grad_clip or None
    params = list(model.parameters())
    vocab = model.lm_head.out_features

    def step(inputs, targets) -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = TF.cross_entropy(model(inputs).view(-1, vocab), targets.reshape(-1))
        loss.backward()
        if clip_value is not None:
            nn.utils.clip_grad_value_(params, clip_value)
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(params, clip_norm)
        optimizer.step()
        return loss.item()

    return step


def generate_greedy(model, prompt: np.ndarray, new_tokens: int, use_cache: bool) -> np.ndarray:
    """Greedy decoding of (B, T) prompt ids, with or without a key/value cache."""
    torch = require_torch()
    with torch.no_grad():
        return _greedy(torch, model, torch.tensor(prompt, dtype=torch.long), new_tokens, use_cache)


def _greedy(torch, model, ids, new_tokens: int, use_cache: bool) -> np.ndarray:
    caches = [{} for _ in model.blocks] if use_cache else None
    pending, start = ids, 0
    for _ in range(new_tokens):
        if use_cache:
            logits = model(pending, caches, start)[:, -1]
            start += pending.shape[1]
        else:
            logits = model(ids)[:, -1]
        nxt = logits.argmax(dim=-1, keepdim=True)
        ids = torch.cat([ids, nxt], dim=1)
        pending = nxt
    return ids.numpy()


def tensor(ids: np.ndarray):
    torch = require_torch()
    return torch.tensor(ids, dtype=torch.long)
