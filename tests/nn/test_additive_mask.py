"""Attention masks in both conventions: keep/block (bool or 0/1) and additive floats (PyTorch's attn_mask)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinytorch.nn.attention import MultiHeadAttention, scaled_dot_product_attention
from tinytorch.core.tensor import Tensor


def _qkv(seed=0, shape=(2, 3, 5, 4)):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for _ in range(3)]


def _numpy_attention(q, k, v, bias):
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1]) + bias
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return w @ v, w


def test_minus_1e9_above_the_diagonal_equals_the_causal_bool_mask():
    q, k, v = _qkv()
    additive = -1e9 * np.triu(np.ones((5, 5)), k=1)
    keep = np.tril(np.ones((5, 5), dtype=bool))
    out_add, w_add = scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), mask=Tensor(additive))
    out_keep, w_keep = scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), mask=keep)
    np.testing.assert_allclose(out_add.data, out_keep.data, rtol=1e-5, atol=1e-6)
    assert np.all(w_add.data[..., ~keep] == 0)


def test_minus_inf_and_general_biases_are_added_to_the_scores():
    q, k, v = _qkv(1)
    bias = np.random.default_rng(2).normal(size=(5, 5))
    bias[np.triu_indices(5, 1)] = -np.inf
    out, weights = scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), mask=bias)
    want_out, want_w = _numpy_attention(q, k, v, bias)
    np.testing.assert_allclose(out.data, want_out, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(weights.data, want_w, rtol=1e-4, atol=1e-6)


def test_the_additive_path_has_the_right_gradients():
    """Central differences in float64 of the loss sum(out * g) with respect to Q, K and V."""
    q, k, v = _qkv(3, (1, 2, 4, 3))
    bias = np.random.default_rng(4).normal(size=(4, 4)) - 5 * np.triu(np.ones((4, 4)), 1)
    g = np.random.default_rng(5).normal(size=(1, 2, 4, 3))
    ts = [Tensor(x, requires_grad=True, dtype=np.float64) for x in (q, k, v)]
    out, _ = scaled_dot_product_attention(*ts, mask=bias)
    (out * Tensor(g, dtype=np.float64)).sum().backward()
    for t, x in zip(ts, (q, k, v)):
        numeric = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            for sign in (1, -1):
                arrays = [a.copy() for a in (q, k, v)]
                which = next(j for j, a in enumerate((q, k, v)) if a is x)
                arrays[which][i] += sign * 1e-6
                numeric[i] += sign * np.sum(g * _numpy_attention(*arrays, bias)[0]) / 2e-6
        np.testing.assert_allclose(t.grad, numeric, rtol=1e-5, atol=1e-7)


def test_zero_one_float_masks_keep_and_block():
    q, k, v = _qkv()
    keep = np.tril(np.ones((5, 5)))
    out_float, _ = scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), mask=keep.astype(np.float32))
    out_bool, _ = scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), mask=keep.astype(bool))
    np.testing.assert_array_equal(out_float.data, out_bool.data)


def test_multi_head_attention_takes_an_additive_mask_with_every_gradient():
    rng = np.random.default_rng(0)
    mha = MultiHeadAttention(16, 4)
    x = Tensor(rng.normal(size=(2, 4, 16)))
    additive = Tensor(-1e9 * np.triu(np.ones((4, 4)), k=1))
    out = mha(x, additive)
    np.testing.assert_allclose(out.data, mha(x, causal=True).data, rtol=1e-5, atol=1e-6)
    out.sum().backward()
    for name, p in mha.named_parameters():
        assert p.grad is not None and np.all(np.isfinite(p.grad)), name
        if name != "k_proj.bias":  # its true gradient is 0 (softmax ignores a shift shared by a row)
            assert np.abs(p.grad).max() > 1e-10, name


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_plus_inf_in_an_additive_mask_is_a_clear_error(bad):
    q, k, v = _qkv()
    mask = np.zeros((5, 5))
    mask[0, 1] = bad
    mask[1, 2] = -1e9
    with pytest.raises(ValueError, match="additive float mask must not hold NaN or \\+inf"):
        scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), mask=mask)


def test_matches_pytorch_attn_mask():
    torch = pytest.importorskip("torch")
    q, k, v = _qkv(6)
    bias = np.random.default_rng(7).normal(size=(5, 5)) - 1e9 * np.triu(np.ones((5, 5)), 1)
    out, _ = scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), mask=bias)
    want = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v)),
                                                            attn_mask=torch.tensor(bias))
    np.testing.assert_allclose(out.data, want.numpy(), rtol=1e-4, atol=1e-5)
