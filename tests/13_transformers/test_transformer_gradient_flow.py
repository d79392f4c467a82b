"""Test plan layers 1.2 and 3.1: every transformer parameter receives a finite, non-zero, correct gradient.

Each test checks two things: at the layer's real (float32) initialisation every parameter gets a
finite gradient that is not all zero, and in float64 every gradient equals central differences.
"""

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: make the repository and the helpers importable
    sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parents[1] / "helpers")]

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor
from tinytorch.nn.attention import MultiHeadAttention
from tinytorch.nn.losses import CrossEntropyLoss
from tinytorch.nn.transformer import GPT, MLP, LayerNorm

from transformer_helpers import (assert_key_bias_grad, assert_nonzero_finite, check_gradients, randomize,
                                 to_float64, weighted_sum, x64)


def _float32_grads(module, loss_fn):
    """Backprop once at the module's own initialisation and return {name: grad}."""
    module.zero_grad()
    loss_fn().backward()
    return {name: p.grad for name, p in module.named_parameters()}


def _assert_all_flow(grads, expected_count, key_bias_tol):
    assert len(grads) == expected_count, f"expected {expected_count} parameters, found {sorted(grads)}"
    for name, grad in grads.items():
        if name.endswith("k_proj.bias"):
            assert_key_bias_grad(name, grad, key_bias_tol)
        else:
            assert_nonzero_finite(name, grad)


def test_multi_head_attention_gradients():
    """All 8 parameters (q/k/v/out projections, weights and biases) and the input get gradients."""
    tinytorch.manual_seed(0)
    mha = MultiHeadAttention(8, 2)
    x32 = Tensor(np.random.default_rng(0).standard_normal((2, 4, 8)), requires_grad=True)
    grads = _float32_grads(mha, lambda: weighted_sum(mha(x32)))
    _assert_all_flow(grads, 8, key_bias_tol=1e-5)
    assert_nonzero_finite("input", x32.grad)

    to_float64(randomize(mha, seed=1))
    x = x64((2, 4, 8), seed=2)
    grads64 = check_gradients(mha, lambda: weighted_sum(mha(x)), inputs=[x])
    assert_key_bias_grad("k_proj.bias", grads64["k_proj.bias"], 1e-10)
    for name in ("q_proj.weight", "q_proj.bias", "k_proj.weight", "v_proj.weight", "out_proj.weight"):
        assert np.abs(grads64[name]).max() > 1e-3, f"{name} gradient is suspiciously small"


def test_layer_norm_gradients():
    """gamma and beta (2 parameters) and the input get correct gradients."""
    ln = LayerNorm(8)
    x32 = Tensor(np.random.default_rng(3).standard_normal((2, 3, 8)) * 3 + 1, requires_grad=True)
    grads = _float32_grads(ln, lambda: weighted_sum(ln(x32)))
    _assert_all_flow(grads, 2, key_bias_tol=0.0)
    assert_nonzero_finite("input", x32.grad)

    to_float64(randomize(ln, seed=4))
    x = Tensor(np.random.default_rng(5).standard_normal((2, 3, 8)) * 3 + 1, requires_grad=True, dtype=np.float64)
    check_gradients(ln, lambda: weighted_sum(ln(x)), inputs=[x])


def test_mlp_gradients():
    """linear1 and linear2, weights and biases (4 parameters), through the GELU."""
    tinytorch.manual_seed(6)
    mlp = MLP(8, 16)
    x32 = Tensor(np.random.default_rng(6).standard_normal((2, 3, 8)), requires_grad=True)
    grads = _float32_grads(mlp, lambda: weighted_sum(mlp(x32)))
    _assert_all_flow(grads, 4, key_bias_tol=0.0)
    assert_nonzero_finite("input", x32.grad)

    to_float64(randomize(mlp, seed=7))
    x = x64((2, 3, 8), seed=8)
    check_gradients(mlp, lambda: weighted_sum(mlp(x)), inputs=[x])


def test_masked_attention_gradients():
    """With a padding mask and a causal mask, a blocked key contributes nothing and gets no gradient."""
    tinytorch.manual_seed(9)
    mha = to_float64(randomize(MultiHeadAttention(8, 2), seed=9))
    b, t = 2, 5
    mask = np.ones((b, t, t))
    mask[0, :, 3:] = 0  # sequence 0: keys 3 and 4 are padding
    mask[1] = np.tril(np.ones((t, t)))  # sequence 1: causal
    # The loss ignores the padded rows' own outputs, as a padded loss would.
    weights = np.random.default_rng(10).standard_normal((b, t, 8))
    weights[0, 3:] = 0.0

    def loss_fn(inp):
        return (mha(inp, mask=mask) * Tensor(weights, dtype=np.float64)).sum()

    x = x64((b, t, 8), seed=11)
    grads = check_gradients(mha, lambda: loss_fn(x), inputs=[x])
    _assert_all_flow({k: v for k, v in grads.items() if k != "input0"}, 8, key_bias_tol=1e-10)
    np.testing.assert_array_equal(x.grad[0, 3:], 0.0)  # padding: no gradient at all
    assert np.abs(x.grad[0, :3]).max() > 1e-3 and np.abs(x.grad[1]).max() > 1e-3

    # Changing a blocked position leaves every output that may not see it unchanged.
    base = mha(x, mask=mask).data
    changed = x.data.copy()
    changed[0, 3:] += 5.0  # padding of sequence 0
    changed[1, 4] -= 5.0  # the last position of the causal sequence
    out = mha(Tensor(changed, dtype=np.float64), mask=mask).data
    np.testing.assert_allclose(out[0, :3], base[0, :3], rtol=0, atol=1e-12)
    np.testing.assert_allclose(out[1, :4], base[1, :4], rtol=0, atol=1e-12)
    assert np.abs(out[1, 4] - base[1, 4]).max() > 1e-3  # the position itself does change


def test_gpt_end_to_end_gradients():
    """A 2-layer GPT: all 37 parameters (embeddings, 2 x 16 per block, ln_f, lm_head) learn from the loss."""
    tinytorch.manual_seed(12)
    vocab, seq = 7, 6
    model = GPT(vocab_size=vocab, embed_dim=8, num_layers=2, num_heads=2, max_seq_len=seq)
    rng = np.random.default_rng(12)
    ids = np.array([np.arange(seq) % vocab, rng.integers(0, vocab, seq)])  # (2, 6), every position used
    targets = np.roll(ids, -1, axis=1)
    loss_fn = CrossEntropyLoss()
    grads = _float32_grads(model, lambda: loss_fn(model(ids), targets))
    _assert_all_flow(grads, 37, key_bias_tol=1e-6)
    assert sum(name.endswith("k_proj.bias") for name in grads) == 2

    to_float64(randomize(model, seed=13, scale=0.3))
    grads64 = check_gradients(model, lambda: loss_fn(model(ids), targets))
    _assert_all_flow(grads64, 37, key_bias_tol=1e-10)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
