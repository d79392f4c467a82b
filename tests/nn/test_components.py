"""Float64 finite-difference checks of every transformer component, parameters and inputs alike."""

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor
from tinytorch.nn.attention import MultiHeadAttention, scaled_dot_product_attention
from tinytorch.nn.embeddings import Embedding, EmbeddingLayer, PositionalEncoding, SinusoidalPositionalEncoding
from tinytorch.nn.losses import CrossEntropyLoss
from tinytorch.nn.transformer import GPT, MLP, LayerNorm, TransformerBlock
from tinytorch.testing import gradcheck

from transformer_helpers import check_gradients, randomize, to_float64, weighted_sum, x64


def test_embedding_with_repeated_ids():
    emb = to_float64(Embedding(6, 4))
    ids = np.array([[1, 3, 1], [3, 3, 0]])  # id 3 three times, id 1 twice; 2, 4, 5 unused
    grads = check_gradients(emb, lambda: weighted_sum(emb(ids)))
    w = np.random.default_rng(1).standard_normal((2, 3, 4))
    np.testing.assert_allclose(grads["weight"][3], w[0, 1] + w[1, 0] + w[1, 1], rtol=1e-12)
    np.testing.assert_array_equal(grads["weight"][[2, 4, 5]], 0.0)


def test_embedding_accepts_whole_float_ids():
    emb = Embedding(5, 3)
    np.testing.assert_array_equal(emb(np.array([[0.0, 4.0]])).data, emb(np.array([[0, 4]])).data)


def test_learned_positional_encoding():
    pe = to_float64(randomize(PositionalEncoding(6, 4), seed=2))
    x = x64((2, 5, 4), seed=3)  # T = 5 < max_seq_len = 6: row 5 of the table is unused
    grads = check_gradients(pe, lambda: weighted_sum(pe(x)), inputs=[x])
    np.testing.assert_array_equal(grads["position_embeddings"][5], 0.0)
    np.testing.assert_allclose(pe(x).data, x.data + pe.position_embeddings.data[:5], rtol=1e-12)


def test_sinusoidal_positional_encoding():
    pe = SinusoidalPositionalEncoding(10, 6)
    assert pe.parameters() == []
    pos, i = 7, 2  # the formula of "Attention Is All You Need"
    angle = pos / 10000 ** (2 * i / 6)
    np.testing.assert_allclose(pe.table[pos, 2 * i], np.sin(angle), rtol=1e-6)
    np.testing.assert_allclose(pe.table[pos, 2 * i + 1], np.cos(angle), rtol=1e-6)
    assert gradcheck(lambda x: pe(x), x64((2, 4, 6), seed=4), name="sinusoidal")


@pytest.mark.parametrize("pos_encoding", ["learned", "sinusoidal", None])
def test_embedding_layer(pos_encoding):
    layer = to_float64(randomize(EmbeddingLayer(7, 4, max_seq_len=6, pos_encoding=pos_encoding,
                                                scale_embeddings=True), seed=5))
    ids = np.array([[0, 6, 6, 2], [1, 2, 3, 4]])
    check_gradients(layer, lambda: weighted_sum(layer(ids)))
    expected = layer.token_embedding.weight.data[ids] * 2.0  # sqrt(embed_dim) = 2
    if pos_encoding == "learned":
        expected = expected + layer.pos_encoding.position_embeddings.data[:4]
    elif pos_encoding == "sinusoidal":
        expected = expected + layer.pos_encoding.table[:4]
    np.testing.assert_allclose(layer(ids).data, expected, rtol=1e-6)


def _sdpa_mask():
    mask = (np.random.default_rng(6).random((4, 5)) > 0.4).astype(np.float64)
    mask[:, 0] = 1  # every query may see at least key 0
    return mask


@pytest.mark.parametrize("mask, causal", [(None, False), ("random", False), (None, True), ("random", True)])
def test_scaled_dot_product_attention(mask, causal):
    mask = _sdpa_mask() if mask == "random" else None
    q, k, v = x64((2, 3, 4, 6), seed=7), x64((2, 3, 5, 6), seed=8), x64((2, 3, 5, 2), seed=9)
    assert gradcheck(lambda q, k, v: scaled_dot_product_attention(q, k, v, mask=mask, causal=causal)[0],
                     q, k, v, atol=1e-7, rtol=1e-6, name="sdpa")


def test_scaled_dot_product_attention_broadcasts_keys():
    """Q with leading dims (2, 3), K and V shared: their gradients sum over the broadcast dims."""
    q, k, v = x64((2, 3, 4, 6), seed=10), x64((5, 6), seed=11), x64((5, 3), seed=12)
    assert gradcheck(lambda q, k, v: scaled_dot_product_attention(q, k, v, mask=_sdpa_mask())[0],
                     q, k, v, atol=1e-7, rtol=1e-6, name="sdpa-broadcast")


def _mha_masks(b, h, t):
    rng = np.random.default_rng(13)
    per_batch = (rng.random((b, t, t)) > 0.5).astype(np.float64)
    per_batch[..., 0] = 1
    return {"(T,T)": np.tril(np.ones((t, t))), "(B,T,T)": per_batch, "(B,1,T,T)": per_batch[:, None]}


@pytest.mark.parametrize("shape", ["(T,T)", "(B,T,T)", "(B,1,T,T)"])
def test_multi_head_attention_with_masks(shape):
    b, h, t = 3, 2, 4  # B != H, so a (B, T, T) mask misread as per-head would not even broadcast
    mha = to_float64(randomize(MultiHeadAttention(8, h), seed=14))
    mask = _mha_masks(b, h, t)[shape]
    x = x64((b, t, 8), seed=15)
    check_gradients(mha, lambda: weighted_sum(mha(x, mask=mask)), inputs=[x])
    # A per-sequence mask means the same as running each sequence alone with its own (T, T) mask.
    full = mha(x, mask=mask).data
    for i in range(b):
        own = mask if mask.ndim == 2 else mask.reshape(b, t, t)[i]
        alone = mha(Tensor(x.data[i : i + 1], dtype=np.float64), mask=own).data[0]
        np.testing.assert_allclose(full[i], alone, rtol=1e-10, atol=1e-12)


def test_multi_head_attention_causal_flag():
    mha = to_float64(randomize(MultiHeadAttention(8, 4), seed=16))
    x = x64((2, 5, 8), seed=17)
    check_gradients(mha, lambda: weighted_sum(mha(x, causal=True)), inputs=[x])
    np.testing.assert_allclose(mha(x, causal=True).data, mha(x, mask=np.tril(np.ones((5, 5)))).data, rtol=1e-12)


def test_layer_norm():
    ln = to_float64(randomize(LayerNorm(6), seed=18))
    x = Tensor(np.random.default_rng(19).standard_normal((3, 2, 6)) * 4 - 2, requires_grad=True, dtype=np.float64)
    check_gradients(ln, lambda: weighted_sum(ln(x)), inputs=[x])
    x_hat = (x.data - x.data.mean(-1, keepdims=True)) / np.sqrt(x.data.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ln(x).data, x_hat * ln.gamma.data + ln.beta.data, rtol=1e-10)


def test_mlp():
    mlp = to_float64(randomize(MLP(6, 10), seed=20))
    assert len(mlp.parameters()) == 4
    x = x64((2, 3, 6), seed=21)
    check_gradients(mlp, lambda: weighted_sum(mlp(x)), inputs=[x])


@pytest.mark.parametrize("causal", [False, True])
def test_transformer_block(causal):
    block = to_float64(randomize(TransformerBlock(8, 2, mlp_ratio=2), seed=22, scale=0.4))
    assert len(block.parameters()) == 16
    x = x64((2, 4, 8), seed=23)
    check_gradients(block, lambda: weighted_sum(block(x, causal=causal)), inputs=[x])


def test_whole_gpt_loss():
    tinytorch.manual_seed(24)
    model = to_float64(randomize(GPT(vocab_size=6, embed_dim=8, num_layers=1, num_heads=4, max_seq_len=5),
                                 seed=24, scale=0.3))
    assert len(model.parameters()) == 21
    rng = np.random.default_rng(25)
    ids, targets = rng.integers(0, 6, (3, 5)), rng.integers(0, 6, (3, 5))
    loss_fn = CrossEntropyLoss()
    grads = check_gradients(model, lambda: loss_fn(model(ids), targets))
    assert set(grads) == {name for name, _ in model.named_parameters()}
