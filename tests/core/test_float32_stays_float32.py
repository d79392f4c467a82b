"""Float32 models compute in float32 on every path: a stray float64 scalar would silently double the cost."""

import numpy as np

import tinytorch
from tinytorch.nn.attention import MultiHeadAttention, scaled_dot_product_attention
from tinytorch.core.ops.attention import attend
from tinytorch.core.tensor import Tensor
from tinytorch.nn.transformer import GPT
from tinytorch.generation import KVCache


def test_attend_keeps_float32_with_a_numpy_float64_scale():
    q, k, v = (np.ones((1, 2, 3, 4), dtype=np.float32) for _ in range(3))
    out, weights = attend(q, k, v, None, 1 / np.sqrt(4))  # np.sqrt gives a numpy float64
    assert out.dtype == np.float32 and weights.dtype == np.float32


def test_kv_cache_decoding_stays_float32():
    tinytorch.manual_seed(0)
    model = GPT(13, 16, 2, 4, 32)
    cache = KVCache.for_model(model, 1)
    ids = np.array([[1, 2, 3]])
    with tinytorch.no_grad():
        assert model(ids, kv_cache=cache).dtype == np.float32
        step = model(np.array([[4]]), kv_cache=cache)
    assert step.dtype == np.float32
    assert cache.layer(0).keys.dtype == np.float32


def test_attention_functions_return_float32():
    rng = np.random.default_rng(0)
    q, k, v = (Tensor(rng.standard_normal((2, 5, 8)).astype(np.float32)) for _ in range(3))
    out, weights = scaled_dot_product_attention(q, k, v, causal=True)
    assert out.dtype == np.float32 and weights.dtype == np.float32
    mha = MultiHeadAttention(8, 2)
    assert mha(q, causal=True).dtype == np.float32
    assert mha.attention_weights(q, causal=True).dtype == np.float32
