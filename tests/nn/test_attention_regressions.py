"""Regression tests for the original attention's bugs: causality, the mask convention, attention that
never learned (uniform weights), rows that do not sum to one, and NaN from fully masked rows."""

import math

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor
from tinytorch.nn.attention import MultiHeadAttention, scaled_dot_product_attention
from tinytorch.nn.losses import CrossEntropyLoss
from tinytorch.optim.optimizers import Adam
from tinytorch.nn.transformer import GPT, create_causal_mask
from tinytorch.testing import gradcheck

from transformer_helpers import randomize, x64


def test_changing_a_later_token_never_changes_earlier_logits():
    """For every t, replacing token t+1 leaves the logits at positions <= t exactly as they were."""
    tinytorch.manual_seed(0)
    model = randomize(GPT(vocab_size=13, embed_dim=16, num_layers=3, num_heads=4, max_seq_len=10), seed=0, scale=0.3)
    ids = np.random.default_rng(0).integers(0, 13, (2, 10))
    base = model(ids).data  # (B, T, V)
    for t in range(ids.shape[1] - 1):
        changed = ids.copy()
        changed[:, t + 1] = (changed[:, t + 1] + 5) % 13
        out = model(changed).data
        np.testing.assert_allclose(out[:, : t + 1], base[:, : t + 1], rtol=0, atol=1e-6,
                                   err_msg=f"token {t + 1} leaked into earlier positions")
        # The test can see a change: the changed position's own logits do move.
        assert np.abs(out[:, t + 1] - base[:, t + 1]).max() > 1e-2


def test_mask_convention_one_means_attend():
    """A mask allowing only key 0 returns V[0] for every query; 0 blocks, 1 attends."""
    q, k, v = (np.random.default_rng(i).standard_normal((2, 5, 4)) for i in range(3))
    only_first = np.zeros((5, 5))
    only_first[:, 0] = 1
    out, weights = scaled_dot_product_attention(q, k, v, mask=only_first)
    np.testing.assert_allclose(out.data, np.broadcast_to(v[:, :1], (2, 5, 4)), rtol=1e-6)
    np.testing.assert_array_equal(weights.data[..., 1:], 0.0)
    # Boolean masks mean the same.
    np.testing.assert_allclose(scaled_dot_product_attention(q, k, v, mask=only_first.astype(bool))[0].data, out.data)


def test_all_ones_mask_equals_no_mask():
    q, k, v = (np.random.default_rng(i).standard_normal((2, 5, 4)) for i in range(3, 6))
    with_mask, w1 = scaled_dot_product_attention(q, k, v, mask=np.ones((5, 5)))
    without, w2 = scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(with_mask.data, without.data, rtol=1e-6)
    np.testing.assert_allclose(w1.data, w2.data, rtol=1e-6)
    assert np.all(w2.data > 0)  # unmasked attention really does see every key
    mha = MultiHeadAttention(8, 2)
    x = np.random.default_rng(6).standard_normal((2, 5, 8))
    np.testing.assert_allclose(mha(x, mask=np.ones((2, 5, 5))).data, mha(x).data, rtol=1e-6)


def test_create_causal_mask_is_lower_triangular_ones():
    mask = create_causal_mask(6)
    assert mask.shape == (1, 6, 6)
    np.testing.assert_array_equal(mask.data[0], np.tril(np.ones((6, 6))))
    # Passing it to attention is the same as asking for causal attention.
    mha = MultiHeadAttention(8, 2)
    x = np.random.default_rng(7).standard_normal((3, 6, 8))
    np.testing.assert_allclose(mha(x, mask=mask).data, mha(x, causal=True).data, rtol=1e-6)
    q = np.random.default_rng(8).standard_normal((1, 6, 4))
    np.testing.assert_allclose(scaled_dot_product_attention(q, q, q, mask=mask)[0].data,
                               scaled_dot_product_attention(q, q, q, causal=True)[0].data, rtol=1e-6)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_rows_sum_to_one(causal):
    mask = (np.random.default_rng(9).random((2, 1, 6, 6)) > 0.3).astype(np.float32)
    mask[..., 0] = 1
    q, k, v = (np.random.default_rng(i).standard_normal((2, 3, 6, 4)) * 3 for i in range(10, 13))
    _, weights = scaled_dot_product_attention(q, k, v, mask=mask, causal=causal)
    np.testing.assert_allclose(weights.data.sum(-1), 1.0, rtol=1e-5)
    assert np.all(weights.data >= 0)
    blocked = np.broadcast_to(mask == 0, weights.shape)
    if causal:
        blocked = blocked | ~np.tril(np.ones((6, 6), dtype=bool))
    np.testing.assert_array_equal(weights.data[blocked], 0.0)
    w = MultiHeadAttention(8, 2).attention_weights(np.random.default_rng(13).standard_normal((2, 6, 8)), causal=causal)
    assert w.shape == (2, 2, 6, 6)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-5)


def test_fully_masked_rows_stay_finite_with_zero_query_key_gradients():
    """A query that may attend nowhere gives a finite output (the mean of V) and no gradient to Q or K."""
    mask = np.ones((4, 4))
    mask[2] = 0  # query 2 may attend to nothing
    q, k, v = x64((2, 4, 3), seed=14), x64((2, 4, 3), seed=15), x64((2, 4, 3), seed=16)
    out, weights = scaled_dot_product_attention(q, k, v, mask=mask)
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(weights.data))
    np.testing.assert_allclose(out.data[:, 2], v.data.mean(axis=1), rtol=1e-12)
    w = np.random.default_rng(17).standard_normal(out.shape)
    w[:, [0, 1, 3]] = 0.0  # only the fully masked row feeds the loss
    (out * Tensor(w, dtype=np.float64)).sum().backward()
    np.testing.assert_array_equal(q.grad, 0.0)
    np.testing.assert_array_equal(k.grad, 0.0)
    assert np.abs(v.grad).max() > 1e-3
    # And the whole gradient agrees with finite differences (it once leaked into Q and K).
    assert gradcheck(lambda q, k, v: scaled_dot_product_attention(q, k, v, mask=mask)[0], q, k, v, atol=1e-8)
    # Through MultiHeadAttention, float32: finite values and gradients everywhere.
    mha = MultiHeadAttention(8, 2)
    x = Tensor(np.random.default_rng(18).standard_normal((2, 4, 8)), requires_grad=True)
    y = mha(x, mask=mask)
    y.sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad))
    assert all(np.all(np.isfinite(p.grad)) for p in mha.parameters())


OFFSET = 2


def test_attention_learns_a_non_uniform_pattern():
    """Copying the token OFFSET positions back needs attention: position t's own token tells nothing.

    Without attention (or with uniform weights, which average the whole prefix) the best possible
    loss on random tokens is ln(vocab). A trained model must get far below that, and its attention
    must put most of each row's weight on key t - OFFSET.
    """
    tinytorch.manual_seed(0)
    vocab, seq_len = 8, 8
    model = GPT(vocab_size=vocab, embed_dim=32, num_layers=1, num_heads=2, max_seq_len=seq_len)
    optimizer = Adam(model.parameters(), lr=3e-3)
    loss_fn = CrossEntropyLoss()
    rng = np.random.default_rng(0)
    baseline = math.log(vocab)
    losses = []
    for _ in range(300):
        ids = rng.integers(0, vocab, (32, seq_len))
        logits = model(ids)[:, OFFSET:]  # (B, T - OFFSET, V): positions that have a token to copy
        loss = loss_fn(logits, ids[:, :-OFFSET])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 0.9 * baseline  # it starts at chance
    assert np.mean(losses[-20:]) < 0.1 * baseline, f"loss {np.mean(losses[-20:]):.3f} vs baseline {baseline:.3f}"

    ids = rng.integers(0, vocab, (64, seq_len))
    x = model.token_embedding(ids) + model.position_embedding(np.arange(seq_len))
    block = model.blocks[0]
    weights = block.attention.attention_weights(block.ln1(x), causal=True)  # (B, H, T, T)
    rows = np.arange(OFFSET, seq_len)
    on_target = weights[:, :, rows, rows - OFFSET].mean(axis=(0, 2))  # (H,): mean weight on key t - OFFSET
    best = int(np.argmax(on_target))
    assert on_target[best] > 0.8, f"the best head puts only {on_target[best]:.2f} on the copied token"
    max_per_row = weights[:, best, rows].max(axis=-1).mean()
    uniform = np.mean(1.0 / (rows + 1))  # the max weight of a uniform causal row
    assert max_per_row > 2.5 * uniform, f"max weight {max_per_row:.2f} vs uniform {uniform:.2f}"
