"""Bad input to the transformer raises ValueError/TypeError naming the value and the limit, and changes nothing."""

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor
from tinytorch.nn.attention import MultiHeadAttention, scaled_dot_product_attention
from tinytorch.nn.embeddings import Embedding, EmbeddingLayer, PositionalEncoding
from tinytorch.nn.transformer import GPT, LayerNorm

VOCAB, MAX_LEN = 37, 8


@pytest.fixture
def model():
    tinytorch.manual_seed(0)
    return GPT(vocab_size=VOCAB, embed_dim=16, num_layers=2, num_heads=4, max_seq_len=MAX_LEN)


def _assert_unchanged(module, before, ids=None, expected=None):
    for name, p in module.named_parameters():
        np.testing.assert_array_equal(p.data, before[name], err_msg=f"{name} changed")
        assert p.grad is None, f"{name} got a gradient"
    if ids is not None:  # and the model still computes exactly what it did
        np.testing.assert_array_equal(module(ids).data, expected)


GOOD_IDS = np.array([[1, 2, 3], [4, 5, 6]])


@pytest.mark.parametrize("ids, exc, pattern", [
    (np.array([[1, 41, 2]]), ValueError, r"token id 41 is outside the vocabulary \[0, 37\)"),
    (np.array([[1, 37, 2]]), ValueError, r"token id 37 is outside the vocabulary \[0, 37\)"),
    (np.array([[0, -1, 2]]), ValueError, r"token id -1 is outside the vocabulary \[0, 37\)"),
    (np.array([[1.0, 2.5, 3.0]]), ValueError, r"token id 2\.5 is not a whole number"),
    (np.array([[1.0, np.nan]]), ValueError, r"token id nan is not a whole number"),
    (np.array([[True, False]]), TypeError, r"token ids must be integers, got dtype bool"),
    (np.array([["a", "b"]]), TypeError, r"token ids must be integers, got dtype <U1"),
    (np.arange(5), ValueError, r"expected ids of shape \(batch, seq_len\), got \(5,\)"),
    (np.zeros((2, 3, 4), dtype=np.int64), ValueError, r"expected ids of shape \(batch, seq_len\), got \(2, 3, 4\)"),
    (np.zeros((1, MAX_LEN + 1), dtype=np.int64), ValueError, r"sequence length 9 exceeds max_seq_len 8"),
])
def test_gpt_rejects_bad_ids(model, ids, exc, pattern):
    before = model.state_dict()
    expected = model(GOOD_IDS).data
    with pytest.raises(exc, match=pattern):
        model(ids)
    with pytest.raises(exc, match=pattern):  # a Tensor holding the same ids is checked the same way
        model(Tensor(ids) if ids.dtype.kind in "fiub" else ids)
    _assert_unchanged(model, before, GOOD_IDS, expected)


def test_gpt_accepts_whole_float_ids(model):
    np.testing.assert_array_equal(model(GOOD_IDS.astype(np.float32)).data, model(GOOD_IDS).data)


def test_generate_rejects_out_of_vocab_prompt(model):
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"prompt id 40 is outside the vocabulary \[0, 37\)"):
        model.generate(np.array([1, 40]), max_new_tokens=3)
    _assert_unchanged(model, before)


@pytest.mark.parametrize("ids, pattern", [
    (np.array([3, 5]), r"token id 5 is outside the vocabulary \[0, 5\)"),
    (np.array([-3, 1]), r"token id -3 is outside the vocabulary \[0, 5\)"),
    (np.array([0.0, 1.25]), r"token id 1\.25 is not a whole number"),
])
def test_embedding_rejects_bad_ids(ids, pattern):
    emb = Embedding(5, 3)
    before = emb.state_dict()
    with pytest.raises(ValueError, match=pattern):
        emb(ids)
    _assert_unchanged(emb, before)


def test_positional_encodings_reject_long_sequences():
    pe = PositionalEncoding(4, 6)
    with pytest.raises(ValueError, match=r"sequence length 5 exceeds max_seq_len 4"):
        pe(np.zeros((2, 5, 6), dtype=np.float32))
    for kind in ("learned", "sinusoidal"):
        layer = EmbeddingLayer(10, 6, max_seq_len=4, pos_encoding=kind)
        before = layer.state_dict()
        with pytest.raises(ValueError, match=r"sequence length 5 exceeds max_seq_len 4"):
            layer(np.zeros((1, 5), dtype=np.int64))
        _assert_unchanged(layer, before)
    with pytest.raises(ValueError, match=r"pos_encoding must be 'learned', 'sinusoidal' or None, got 'rotary'"):
        EmbeddingLayer(10, 6, pos_encoding="rotary")


@pytest.mark.parametrize("embed_dim, num_heads", [(10, 3), (16, 5), (6, 4)])
def test_embed_dim_not_divisible_by_heads(embed_dim, num_heads):
    pattern = rf"embed_dim {embed_dim} is not divisible by num_heads {num_heads}"
    with pytest.raises(ValueError, match="MultiHeadAttention: " + pattern):
        MultiHeadAttention(embed_dim, num_heads)
    with pytest.raises(ValueError, match="GPTConfig: " + pattern):
        GPT(vocab_size=VOCAB, embed_dim=embed_dim, num_layers=1, num_heads=num_heads)


def test_zero_heads_is_a_value_error_not_a_division_by_zero():
    with pytest.raises(ValueError, match=r"MultiHeadAttention: num_heads must be a positive int, got 0"):
        MultiHeadAttention(8, 0)
    with pytest.raises(ValueError, match=r"GPTConfig: num_heads must be a positive int, got 0"):
        GPT(vocab_size=VOCAB, embed_dim=8, num_layers=1, num_heads=0)


@pytest.mark.parametrize("shape", [(2, 3, 8), (2, 3, 17), (2, 16), (1, 2, 3, 16)])
def test_multi_head_attention_rejects_wrong_input_shape(shape):
    mha = MultiHeadAttention(16, 4)
    before = mha.state_dict()
    pattern = r"expected input \(batch, seq_len, 16\), got " + str(shape).replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(ValueError, match=pattern):
        mha(np.zeros(shape, dtype=np.float32))
    _assert_unchanged(mha, before)


def test_multi_head_attention_rejects_a_mask_that_does_not_fit():
    mha = MultiHeadAttention(8, 2)
    x = np.zeros((2, 4, 8), dtype=np.float32)
    with pytest.raises(ValueError, match=r"mask of shape \(5, 5\) does not broadcast to attention scores \(2, 2, 4, 4\)"):
        mha(x, mask=np.ones((5, 5)))
    with pytest.raises(ValueError, match=r"mask of shape \(3, 1, 4, 4\) does not broadcast"):
        mha(x, mask=np.ones((3, 4, 4)))  # 3 sequences' masks for a batch of 2
    q = np.zeros((2, 4, 3))
    with pytest.raises(ValueError, match=r"incompatible shapes Q \(2, 4, 3\), K \(2, 4, 5\)"):
        scaled_dot_product_attention(q, np.zeros((2, 4, 5)), q)


@pytest.mark.parametrize("size", [7, 9])
def test_layer_norm_rejects_wrong_feature_size(size):
    ln = LayerNorm(8)
    before = ln.state_dict()
    with pytest.raises(ValueError, match=rf"last dimension {size} does not match normalized_shape 8"):
        ln(np.zeros((2, size), dtype=np.float32))
    _assert_unchanged(ln, before)
