"""One dtype rule for every layer with weights: a float input of another precision is a TypeError naming both."""

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor
from tinytorch.nn.attention import MultiHeadAttention, scaled_dot_product_attention
from tinytorch.nn.embeddings import Embedding, EmbeddingLayer, PositionalEncoding, SinusoidalPositionalEncoding
from tinytorch.nn.layers import Linear, Sequential
from tinytorch.nn.losses import BinaryCrossEntropyLoss, CrossEntropyLoss, MSELoss
from tinytorch.nn.transformer import GPT, MLP, LayerNorm, TransformerBlock

D = 8
LAYERS = {  # name -> a layer taking (B, T, D) floats
    "Linear": lambda: Linear(D, 3),
    "LayerNorm": lambda: LayerNorm(D),
    "MultiHeadAttention": lambda: MultiHeadAttention(D, 2),
    "MLP": lambda: MLP(D),
    "TransformerBlock": lambda: TransformerBlock(D, 2),
    "PositionalEncoding": lambda: PositionalEncoding(6, D),
    "Sequential": lambda: Sequential(Linear(D, D), LayerNorm(D)),
}


def data(dtype):
    return Tensor(np.random.default_rng(0).standard_normal((2, 5, D)), dtype=dtype)


def as_float64(layer):
    for p in layer.parameters():
        p.data = p.data.astype(np.float64)
    return layer


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("layer_dtype, input_dtype", [(np.float32, np.float64), (np.float64, np.float32)])
def test_a_float_of_another_precision_is_refused_naming_both(name, layer_dtype, input_dtype):
    tinytorch.manual_seed(0)
    layer = LAYERS[name]()
    if layer_dtype is np.float64:
        as_float64(layer)
    with pytest.raises(TypeError) as error:
        layer(data(input_dtype))
    message = str(error.value)
    assert np.dtype(layer_dtype).name in message and np.dtype(input_dtype).name in message


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_layers_own_dtype_passes_and_stays(name, dtype):
    tinytorch.manual_seed(0)
    layer = LAYERS[name]()
    if dtype is np.float64:
        as_float64(layer)
    assert layer(data(dtype)).dtype == dtype


@pytest.mark.parametrize("name", ["Linear", "LayerNorm", "MultiHeadAttention", "MLP", "PositionalEncoding"])
def test_integer_input_is_read_in_the_layers_dtype(name):
    tinytorch.manual_seed(0)
    layer = LAYERS[name]()
    ints = Tensor(np.arange(2 * 5 * D).reshape(2, 5, D) % 7)
    out = layer(ints)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, layer(Tensor(ints.data.astype(np.float32))).data, rtol=1e-6)


def test_torch_raises_for_the_same_layers():
    torch = pytest.importorskip("torch")
    x = torch.zeros(2, 5, D, dtype=torch.float64)
    for layer in (torch.nn.Linear(D, 3), torch.nn.LayerNorm(D)):
        with pytest.raises(RuntimeError):
            layer(x)


@pytest.mark.parametrize("id_dtype", [np.float64, np.float32, np.int32, np.int64])
def test_token_ids_of_any_dtype_are_ids_and_the_model_computes_in_its_own(id_dtype):
    tinytorch.manual_seed(0)
    ids = Tensor(np.array([[1, 2, 3, 4]]), dtype=id_dtype)
    model = GPT(10, embed_dim=D, num_layers=1, num_heads=2, max_seq_len=8)
    assert model(ids).dtype == np.float32
    assert Embedding(10, D)(ids).dtype == np.float32
    assert EmbeddingLayer(10, D, 8)(ids).dtype == np.float32


def test_scaled_dot_product_attention_needs_one_float_dtype():
    q32, q64 = data(np.float32), data(np.float64)
    with pytest.raises(TypeError, match="float32.*float64|float64.*float32"):
        scaled_dot_product_attention(q32, q64, q32)
    assert scaled_dot_product_attention(q64, q64, q64)[0].dtype == np.float64


def test_sinusoidal_positions_follow_the_input():  # no weights: nothing to disagree with
    for dtype in (np.float32, np.float64):
        assert SinusoidalPositionalEncoding(6, D)(data(dtype)).dtype == dtype


def test_losses_have_no_weights_and_promote_as_torch():
    torch = pytest.importorskip("torch")
    p32 = np.random.default_rng(0).random((4, 3)).astype(np.float32)
    t64 = np.random.default_rng(1).random((4, 3))
    ours = MSELoss()(Tensor(p32), Tensor(t64, dtype=np.float64))
    ref = torch.nn.functional.mse_loss(torch.tensor(p32), torch.tensor(t64))
    assert str(ref.dtype) == "torch.float64" and ours.dtype == np.float64
    np.testing.assert_allclose(ours.item(), ref.item(), rtol=1e-12)
    logits64 = Tensor(p32, dtype=np.float64)
    assert CrossEntropyLoss()(logits64, np.array([0, 1, 2, 0])).dtype == np.float64
    assert BinaryCrossEntropyLoss()(Tensor(p32), Tensor(p32.round())).dtype == np.float32
