"""The blockwise causal attention kernel: same values and gradients as the dense path, float64 central
differences, PyTorch parity, return_attention, the attention scale and the KV-cache decode path."""

import warnings

import numpy as np
import pytest

from tinytorch import Tensor
from tinytorch.core import functions as F
from tinytorch.nn.attention import MultiHeadAttention
from tinytorch.core.ops.attention import attend, attention_scale, causal_allowed
from tinytorch.core.ops import causal_attention as kernel
from tinytorch.core.ops.causal_attention import (BLOCK, causal_backward, causal_forward, dense_weights,
                                                       worth_blocking)
from tinytorch.nn.transformer import GPT
from tinytorch.generation.kv_cache import KVCache
from tinytorch.testing import gradcheck, numerical_grad


def _qkv(shape, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for _ in range(3)]


def _blockwise(q, k, v, block):
    """causal_forward on float64 q, k, v -> (output, weights for backward, scaled q, scale)."""
    scale = attention_scale(q.shape[-1])
    qs = q * scale
    out = np.empty_like(q)
    weights = causal_forward(qs, k, v, out, block)
    return out, weights, qs, scale


@pytest.mark.parametrize("t, block", [(10, 4), (9, 3), (7, 16), (37, BLOCK), (1, 4)])
def test_blockwise_forward_equals_dense_causal_attention(t, block):
    q, k, v = _qkv((2, 3, t, 5))
    out, weights_t, _, _ = _blockwise(q, k, v, block)
    ref_out, ref_w = attend(q, k, v, causal_allowed(t, t), attention_scale(5))
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dense_weights(q * attention_scale(5), k, weights_t, block), ref_w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scores_far_above_key_zero_keep_exact_weights(dtype, monkeypatch):
    """The kernel shifts each query's scores by its score against key 0; a query scoring hundreds
    above that would overflow, so its block is redone with each query's maximum. Weights, output
    then equal the dense path's, finite, in both precisions."""
    t, block = 8, 4
    q, k, v = _qkv((1, 2, t, 2), seed=5)
    q[0, 0, 5] = [300.0, 0.0]  # query 5 scores about -212 against key 0 and +212 against the others
    k[0, 0, :, 0] = 1.0
    k[0, 0, 0, 0] = -1.0
    q, k, v = (a.astype(dtype) for a in (q, k, v))
    modes = []
    original = kernel.exp_shifted
    monkeypatch.setattr(kernel, "exp_shifted",
                        lambda scores, key_axis, by_max=False: modes.append(by_max) or original(scores, key_axis, by_max))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the overflow is expected and handled: no RuntimeWarning
        out, weights, qs, _ = _blockwise(q, k, v, block)
    assert modes == [False, False, True]  # the second block (queries 4-7) was redone by the maximum
    ref_out, ref_w = attend(q, k, v, causal_allowed(t, t), attention_scale(2))
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert np.isfinite(out).all()
    np.testing.assert_allclose(dense_weights(qs, k, weights, block), ref_w, rtol=tol, atol=tol)
    np.testing.assert_allclose(out, ref_out, rtol=tol, atol=tol)


@pytest.mark.parametrize("t, block", [(10, 4), (7, 3), (5, 8)])
def test_blockwise_backward_matches_central_differences(t, block):
    """T not divisible by the block (10 by 4, 7 by 3) and a block longer than T (5 by 8)."""
    q, k, v = _qkv((2, 2, t, 3), seed=t)
    w = np.random.default_rng(1).standard_normal(q.shape)

    def loss():
        return float(np.sum(_blockwise(q, k, v, block)[0] * w))

    out, weights, qs, scale = _blockwise(q, k, v, block)
    grads = [np.empty_like(q) for _ in range(3)]
    causal_backward(w, qs, k, v, out, weights, *grads, block=block)
    grads[0] *= scale  # the kernel's gradient is with respect to qs = q * scale
    for analytic, array in zip(grads, (q, k, v)):
        np.testing.assert_allclose(analytic, numerical_grad(loss, array, 1e-6), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("t", [BLOCK - 5, 2 * BLOCK + 1, 3 * BLOCK + 7])
def test_self_attention_heads_causal_gradcheck(t):
    """The fused op with causal=True at lengths around the block size (blockwise above 2 blocks), float64."""
    rng = np.random.default_rng(t)
    c, h = 6, 2
    x = Tensor(rng.standard_normal((1, t, c)), requires_grad=True)
    params = [Tensor(rng.standard_normal(s) * 0.5, requires_grad=True) for s in [(c, c), (c,)] * 3]

    def fn(x, *p):
        return F.self_attention_heads(x, *p, num_heads=h, causal=True)

    assert gradcheck(fn, x, *params)


def test_blockwise_and_dense_paths_of_the_op_agree_in_value_and_gradient():
    """causal=True alone takes the blockwise kernel; an all-ones mask plus causal takes the dense one."""
    rng = np.random.default_rng(3)
    b, t, c, h = 2, 2 * BLOCK + 13, 8, 2
    assert worth_blocking(t)
    x0 = rng.standard_normal((b, t, c)).astype(np.float32)
    p0 = [(rng.standard_normal(s) * 0.3).astype(np.float32) for s in [(c, c), (c,)] * 3]
    g = rng.standard_normal((b, t, c)).astype(np.float32)
    results = []
    for allowed in (None, np.ones((t, t), dtype=bool)):
        x, params = Tensor(x0, requires_grad=True), [Tensor(p, requires_grad=True) for p in p0]
        out = F.self_attention_heads(x, *params, num_heads=h, allowed=allowed, causal=True)
        out.backward(g)
        results.append([out.data, x.grad] + [p.grad for p in params])
    for fast, dense in zip(*results):
        assert fast.dtype == np.float32
        np.testing.assert_allclose(fast, dense, rtol=1e-4, atol=1e-5)


def test_blockwise_causal_attention_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    b, t, c, h = 2, 2 * BLOCK + 6, 16, 4
    mha = MultiHeadAttention(c, h)
    x0 = rng.standard_normal((b, t, c)).astype(np.float32)
    g = rng.standard_normal((b, t, c)).astype(np.float32)
    x = Tensor(x0, requires_grad=True)
    out = mha(x, causal=True)
    out.backward(g)

    xt = torch.tensor(x0, requires_grad=True)
    weights = {n: torch.tensor(p.data, requires_grad=True) for n, p in mha.named_parameters()}

    def heads(name):
        y = xt @ weights[f"{name}.weight"] + weights[f"{name}.bias"]
        return y.view(b, t, h, c // h).transpose(1, 2)

    y = torch.nn.functional.scaled_dot_product_attention(heads("q_proj"), heads("k_proj"), heads("v_proj"),
                                                         is_causal=True)
    y = y.transpose(1, 2).reshape(b, t, c) @ weights["out_proj.weight"] + weights["out_proj.bias"]
    y.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, y.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-3, atol=1e-4)
    for name, p in mha.named_parameters():
        np.testing.assert_allclose(p.grad, weights[name].grad.numpy(), rtol=1e-3, atol=1e-4, err_msg=name)


def test_gpt_return_attention_gives_each_layers_weights_and_the_same_logits():
    model = GPT(23, 16, 3, 4, max_seq_len=3 * BLOCK)
    ids = np.random.default_rng(0).integers(0, 23, (2, 2 * BLOCK + 9))
    logits, maps = model(ids, return_attention=True)
    np.testing.assert_array_equal(logits.data, model(ids).data)
    assert len(maps) == 3
    t = ids.shape[1]
    for block, weights in zip(model.blocks, maps):
        assert isinstance(weights, np.ndarray) and weights.shape == (2, 4, t, t) and weights.dtype == np.float32
        np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-5)
        assert not np.triu(weights, k=1).any()  # nothing attends to a later token
    # The first layer's weights by hand: LayerNorm'd embeddings through the dense attention path.
    att = model.blocks[0].attention
    x = model.blocks[0].ln1(F.token_position_embedding(model.token_embedding.weight,
                                                       model.position_embedding.weight, ids)).data
    q, k, v = (
        (x @ p.weight.data + p.bias.data).reshape(2, t, 4, 4).transpose(0, 2, 1, 3)
        for p in (att.q_proj, att.k_proj, att.v_proj)
    )
    np.testing.assert_allclose(maps[0], attend(q, k, v, causal_allowed(t, t), attention_scale(4))[1], atol=1e-6)


def test_attention_scale_is_a_python_float_and_keeps_float32():
    assert type(attention_scale(32)) is float and attention_scale(16) == 0.25
    q, k, v = _qkv((1, 2, 40, 8), dtype=np.float32)
    out = np.empty_like(q)
    tiles, shift, inv = causal_forward(q * attention_scale(8), k, v, out)
    assert out.dtype == np.float32 and inv.dtype == shift.dtype == np.float32 and all(w.dtype == np.float32 for w in tiles)


def test_kv_cache_decode_equals_the_full_forward_across_block_boundaries():
    """Prefill 20 tokens, then decode one at a time past 2 * BLOCK: logits and weights match the full pass."""
    model = GPT(31, 16, 2, 2, max_seq_len=2 * BLOCK + 8)
    ids = np.random.default_rng(2).integers(0, 31, (2, 2 * BLOCK + 5))
    full_logits, full_maps = model(ids, return_attention=True)
    cache = KVCache.for_model(model, batch_size=2)
    logits, maps = model(ids[:, :20], kv_cache=cache, return_attention=True)
    np.testing.assert_allclose(logits.data, full_logits.data[:, :20], rtol=1e-4, atol=1e-5)
    for i in range(20, ids.shape[1]):
        logits, maps = model(ids[:, i : i + 1], kv_cache=cache, return_attention=True)
        np.testing.assert_allclose(logits.data[:, 0], full_logits.data[:, i], rtol=1e-4, atol=1e-5)
        for weights, full in zip(maps, full_maps):
            np.testing.assert_allclose(weights[:, :, 0], full[:, :, i, : i + 1], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_path_falls_back_to_the_maximum_where_key_zero_would_overflow(dtype):
    """attend() shifts the scores by the score against key 0; a query scoring hundreds above that
    is shifted by its maximum instead, and the weights equal a plain per-row softmax."""
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((2, 6, 3)) for _ in range(3))
    q[1, 2] = [400.0, 0.0, 0.0]
    q[1, 4] = [-400.0, 0.0, 0.0]
    k[1, :, 0] = 1.0
    k[1, 0, 0] = -1.0
    allowed = causal_allowed(6, 6)
    scores = np.where(allowed, q @ np.swapaxes(k, -1, -2), -np.inf)
    expected = np.exp(scores - scores.max(axis=-1, keepdims=True))
    expected /= expected.sum(axis=-1, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the overflow is expected and handled: no RuntimeWarning
        out, weights = attend(q.astype(dtype), k.astype(dtype), v.astype(dtype), allowed, 1.0)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert np.isfinite(out).all()
    np.testing.assert_allclose(weights, expected, rtol=tol, atol=tol)
    np.testing.assert_allclose(out, expected @ v, rtol=tol, atol=10 * tol)


def test_recomputed_tiles_give_the_kept_tiles_gradients_bit_for_bit(monkeypatch):
    """For long contexts backward computes each tile again from q, k and the kept shift: the same
    products and passes in the same order, so the gradients equal those of kept tiles exactly."""
    t = 8 * 8 + 40
    q, k, v = _qkv((1, 2, t, 8), dtype=np.float32, seed=3)
    grad = np.random.default_rng(4).standard_normal(q.shape).astype(np.float32)
    results = []
    for per_head_dim in (t // 8 + 1, t // 8 - 1):  # tiles kept, then recomputed
        monkeypatch.setattr(kernel, "KEEP_TILES_PER_HEAD_DIM", per_head_dim)
        out, weights, qs, _ = _blockwise(q, k, v, BLOCK)
        assert (weights[0] is None) == (per_head_dim * 8 < t)
        grads = [np.empty_like(q) for _ in range(3)]
        causal_backward(grad, qs, k, v, out, weights, *grads)
        results.append((out, grads))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    for kept, recomputed in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(kept, recomputed)
