"""Every fused or blocked kernel agrees with its textbook formula (core/ops/reference.py, optim/reference.py)
in float64: attention's dense and blockwise paths and the fused q|k|v op, blocked GELU and LayerNorm
(sizes above one cache block, so the blocking runs), and the flat optimizer update."""

import numpy as np
import pytest

from tinytorch import Tensor
from tinytorch.core import functions as F
from tinytorch.core.ops import reference as ref
from tinytorch.core.ops.attention import ScaledDotProductAttention, attention_scale, causal_allowed, split_heads
from tinytorch.core.ops.blocks import BLOCK_ELEMENTS
from tinytorch.core.ops.causal_attention import KEEP_TILES_PER_HEAD_DIM, causal_backward, causal_forward, dense_weights
from tinytorch.nn.layers import Parameter
from tinytorch.optim import reference as optim_ref
from tinytorch.optim.optimizers import SGD, Adam, AdamW

RNG = np.random.default_rng(0)


def _randn(*shape):
    return RNG.standard_normal(shape)


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mask", ["none", "causal", "random"])
def test_dense_attention_and_its_backward_match_the_formula(mask):
    q, k, v, grad = _randn(2, 3, 9, 4), _randn(2, 3, 9, 4), _randn(2, 3, 9, 5), _randn(2, 3, 9, 5)
    allowed = {"none": None, "causal": causal_allowed(9, 9), "random": RNG.random((9, 9)) < 0.6}[mask]
    if allowed is not None and mask == "random":
        allowed[:, 0] = True  # the formula needs one allowed key per query
    fn = ScaledDotProductAttention()
    out = fn.forward(q, k, v, allowed)
    fn.needs_input_grad = [True, True, True]
    ref_out, p = ref.attention(q, k, v, allowed)
    _close(out, ref_out)
    _close(fn.weights, p)
    for got, want in zip(fn.backward(grad), ref.attention_backward(grad, q, k, v, p)):
        _close(got, want)


@pytest.mark.parametrize("t, block", [(100, 32), (37, 8), (KEEP_TILES_PER_HEAD_DIM * 6 + 9, 32)])  # kept, recomputed
def test_blockwise_causal_kernel_matches_the_formula(t, block):
    q, k, v, grad = (_randn(2, 2, t, 6) for _ in range(4))
    scale = attention_scale(6)
    out = np.empty_like(q)
    weights = causal_forward(q * scale, k, v, out, block)
    ref_out, p = ref.attention(q, k, v, causal_allowed(t, t))
    _close(out, ref_out)
    _close(dense_weights(q * scale, k, weights, block), p)
    assert (weights[0] is None) == (t > KEEP_TILES_PER_HEAD_DIM * 6)
    gq, gk, gv = np.empty_like(q), np.empty_like(k), np.empty_like(v)
    causal_backward(grad, q * scale, k, v, out, weights, gq, gk, gv, block)
    want_q, want_k, want_v = ref.attention_backward(grad, q, k, v, p)
    _close(gq * scale, want_q)  # the kernel's dQ is with respect to the scaled q
    _close(gk, want_k)
    _close(gv, want_v)


@pytest.mark.parametrize("t", [20, 80])  # the dense path, then the blockwise one
def test_fused_qkv_attention_op_matches_projections_then_the_formula(t):
    b, c, h = 2, 12, 3
    x = Tensor(_randn(b, t, c), requires_grad=True, dtype=np.float64)
    params = [Tensor(_randn(*s) * 0.3, requires_grad=True, dtype=np.float64) for s in ((c, c), (c,)) * 3]
    out = F.self_attention_heads(x, *params, num_heads=h, causal=True)
    grad = _randn(b, t, c)
    out.backward(Tensor(grad, dtype=np.float64))  # a bare array would be read as float32
    wq, bq, wk, bk, wv, bv = (p.data for p in params)
    q, k, v = (split_heads(x.data @ w + bias, h) for w, bias in ((wq, bq), (wk, bk), (wv, bv)))
    heads, p = ref.attention(q, k, v, causal_allowed(t, t))
    _close(out.data, heads.transpose(0, 2, 1, 3).reshape(b, t, c))
    gq, gk, gv = (g.transpose(0, 2, 1, 3).reshape(b * t, c)
                  for g in ref.attention_backward(split_heads(grad, h), q, k, v, p))
    x2 = x.data.reshape(b * t, c)
    _close(x.grad, (gq @ wq.T + gk @ wk.T + gv @ wv.T).reshape(b, t, c))
    for param, want in zip(params, (x2.T @ gq, gq.sum(0), x2.T @ gk, gk.sum(0), x2.T @ gv, gv.sum(0))):
        _close(param.grad, want)


def test_blocked_gelu_and_its_gradient_match_the_formula():
    x = Tensor(_randn(3 * BLOCK_ELEMENTS + 17) * 3, requires_grad=True, dtype=np.float64)
    out = F.gelu(x)
    grad = _randn(*x.shape)
    out.backward(Tensor(grad, dtype=np.float64))  # a bare array would be read as float32
    _close(out.data, ref.gelu_tanh(x.data))
    _close(x.grad, grad * ref.gelu_tanh_grad(x.data))


@pytest.mark.parametrize("rows", [7, 2 * BLOCK_ELEMENTS // 48 + 5])  # one block, then several blocks of rows
def test_blocked_layer_norm_and_its_gradients_match_the_formula(rows):
    x = Tensor(_randn(rows, 48) * 2 + 1, requires_grad=True, dtype=np.float64)
    gamma, beta = Tensor(_randn(48), requires_grad=True, dtype=np.float64), Tensor(_randn(48), requires_grad=True, dtype=np.float64)
    out = F.layer_norm(x, gamma, beta)
    grad = _randn(rows, 48)
    out.backward(Tensor(grad, dtype=np.float64))  # a bare array would be read as float32
    _close(out.data, ref.layer_norm(x.data, gamma.data, beta.data))
    for got, want in zip((x.grad, gamma.grad, beta.grad), ref.layer_norm_backward(grad, x.data, gamma.data)):
        _close(got, want)


OPTIMIZERS = [
    (SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True), "sgd"),
    (SGD, dict(lr=0.1), "sgd"),
    (Adam, dict(lr=0.01, weight_decay=0.1), "adam"),
    (AdamW, dict(lr=0.01, weight_decay=0.1), "adamw"),
]


@pytest.mark.parametrize("cls, kwargs, rule", OPTIMIZERS)
def test_flat_optimizer_update_matches_the_rule_per_parameter(cls, kwargs, rule):
    shapes = [(5, 3), (3,), (2 * BLOCK_ELEMENTS + 3,)]  # the last is updated in cache-sized slices
    params = [Parameter(_randn(*s), dtype=np.float64) for s in shapes]
    expected = [p.data.copy() for p in params]
    state = [[np.zeros(s), np.zeros(s)] for s in shapes]
    optimizer = cls(params, **kwargs)
    for t in range(1, 4):
        grads = [_randn(*s) for s in shapes]
        for p, g in zip(params, grads):
            p.grad = g.copy()
        optimizer.step()
        for i, g in enumerate(grads):
            if rule == "sgd":
                expected[i], state[i][0] = optim_ref.sgd_step(expected[i], g, state[i][0], **kwargs)
            else:
                expected[i], state[i][0], state[i][1] = optim_ref.adam_step(
                    expected[i], g, state[i][0], state[i][1], t, decoupled=rule == "adamw", **kwargs)
    for p, want in zip(params, expected):
        _close(p.data, want)
