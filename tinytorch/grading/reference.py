"""A float64 numpy reference transformer: the grader's own forward pass, fed the implementation's weights.

Parameters are dicts of arrays with the canonical names of `protocol.Adapter.parameters`; Linear
weights are (in, out), so `y = x @ W + b`.
"""

from __future__ import annotations

import math

import numpy as np

LN_EPS = 1e-5


def gelu(x, variant: str = "tanh"):
    """GELU: "exact" (the erf form) or "tanh" (GPT-2's approximation); both are accepted."""
    if variant == "exact":
        erf = np.vectorize(math.erf)
        return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def linear(p, x, prefix=""):
    y = x @ p[prefix + "weight"]
    bias = p.get(prefix + "bias")
    return y if bias is None else y + bias


def layer_norm(p, x, prefix=""):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)  # biased, as PyTorch
    return (x - mean) / np.sqrt(var + LN_EPS) * p[prefix + "gamma"] + p[prefix + "beta"]


def attention_weights(p, x, num_heads: int, allowed=None, prefix=""):
    """(B, H, T, T) attention probabilities; `allowed` (T, T) bool, True = may attend."""
    b, t, c = x.shape
    hd = c // num_heads

    def heads(name):  # (B, H, T, hd)
        return linear(p, x, f"{prefix}{name}.").reshape(b, t, num_heads, hd).transpose(0, 2, 1, 3)

    q, k = heads("q_proj"), heads("k_proj")
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd)  # (B, H, T, T)
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    return softmax(scores), heads("v_proj")


def attention(p, x, num_heads: int, allowed=None, prefix=""):
    b, t, c = x.shape
    weights, v = attention_weights(p, x, num_heads, allowed, prefix)
    merged = (weights @ v).transpose(0, 2, 1, 3).reshape(b, t, c)  # (B, T, C)
    return linear(p, merged, prefix + "out_proj.")


def mlp(p, x, prefix="", gelu_variant="tanh"):
    return linear(p, gelu(linear(p, x, prefix + "linear1."), gelu_variant), prefix + "linear2.")


def block(p, x, num_heads, allowed=None, prefix="", gelu_variant="tanh"):
    x = x + attention(p, layer_norm(p, x, prefix + "ln1."), num_heads, allowed, prefix + "attention.")
    return x + mlp(p, layer_norm(p, x, prefix + "ln2."), prefix + "mlp.", gelu_variant)


def causal(t: int):
    return np.tril(np.ones((t, t), dtype=bool))


def num_layers(p) -> int:
    return len({name.split(".")[1] for name in p if name.startswith("blocks.")})


def gpt_hidden(p, ids, num_heads, gelu_variant="tanh", upto=None):
    """Residual stream entering block `upto` (all blocks when None), for ids (B, T)."""
    ids = np.asarray(ids)
    x = p["token_embedding.weight"][ids] + p["position_embedding.weight"][: ids.shape[1]]  # (B, T, C)
    for i in range(num_layers(p) if upto is None else upto):
        x = block(p, x, num_heads, causal(ids.shape[1]), f"blocks.{i}.", gelu_variant)
    return x


def gpt(p, ids, num_heads, gelu_variant="tanh"):
    """Logits (B, T, V) of the GPT with parameters `p`."""
    x = gpt_hidden(p, ids, num_heads, gelu_variant)
    return layer_norm(p, x, "ln_f.") @ p["lm_head.weight"]


def gpt_attention_maps(p, ids, num_heads, gelu_variant="tanh"):
    """One (B, H, T, T) attention map per layer of the GPT with parameters `p`."""
    ids = np.asarray(ids)
    maps = []
    for i in range(num_layers(p)):
        x = gpt_hidden(p, ids, num_heads, gelu_variant, upto=i)
        w, _ = attention_weights(p, layer_norm(p, x, f"blocks.{i}.ln1."), num_heads, causal(ids.shape[1]),
                                 f"blocks.{i}.attention.")
        maps.append(w)
    return maps


def cross_entropy(logits, targets):
    """Mean cross-entropy of (..., V) logits against integer targets (...)."""
    logp = log_softmax(np.asarray(logits, dtype=np.float64).reshape(-1, logits.shape[-1]))
    t = np.asarray(targets).reshape(-1).astype(np.int64)
    return float(-logp[np.arange(len(t)), t].mean())


def central_difference(f, array: np.ndarray, i, eps: float) -> float:
    """(f(x + eps e_i) - f(x - eps e_i)) / 2 eps for scalar f(), perturbing `array[i]` in place and restoring it.

    `i` indexes `array` itself (an int for 1-d, a tuple otherwise): never a reshaped copy, since a strided
    view (a column block of a fused weight) would reshape into a copy the function never reads."""
    original = array[i]
    array[i] = original + eps
    up = f()
    array[i] = original - eps
    down = f()
    array[i] = original
    return (up - down) / (2 * eps)


def central_differences(f, arrays: dict, names=None, eps=1e-6, max_entries=24, seed=0):
    """{name: (indices, numeric gradient)} of scalar f() w.r.t. some entries of each array (changed in place)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in names or list(arrays):
        a = arrays[name]
        idx = np.arange(a.size) if a.size <= max_entries else rng.choice(a.size, max_entries, replace=False)
        out[name] = (idx, np.array([central_difference(f, a, np.unravel_index(i, a.shape), eps) for i in idx]))
    return out
