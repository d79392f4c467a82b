"""Non-finite numbers never become tokens: NaN/inf logits and broken weights raise; a temperature so
small that logits / temperature overflows is greedy."""

import numpy as np
import pytest

from tinytorch.nn.config import GPTConfig
from tinytorch.nn.transformer import GPT
from tinytorch.generation import generate, sample_next

LOGITS = np.array([[0.5, 2.0, -1.0, 1.5], [3.0, 0.0, 2.9, -2.0]], dtype=np.float32)


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("temperature", [0.0, 0.8, 1e-320])
def test_nan_or_inf_logits_raise(value, temperature):
    logits = LOGITS.copy()
    logits[1, 2] = value
    with pytest.raises(ValueError, match="row 1 hold"):
        sample_next(logits, np.random.default_rng(0), temperature=temperature)


def test_all_minus_inf_row_raises():
    logits = LOGITS.copy()
    logits[0] = -np.inf
    with pytest.raises(ValueError, match="only -inf"):
        sample_next(logits, np.random.default_rng(0), temperature=1.0)


@pytest.mark.parametrize("temperature", [1e-320, 5e-324, 1e-308, 1e-300])
@pytest.mark.parametrize("top_k,top_p", [(None, None), (2, None), (None, 0.9)])
def test_tiny_temperature_is_greedy(temperature, top_k, top_p):
    for seed in range(5):
        ids = sample_next(LOGITS, np.random.default_rng(seed), temperature=temperature, top_k=top_k, top_p=top_p)
        assert ids.tolist() == LOGITS.argmax(axis=-1).tolist()


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_model_with_non_finite_weights_refuses_to_generate(value, temperature):
    model = GPT(GPTConfig(vocab_size=7, embed_dim=8, num_layers=1, num_heads=2, max_seq_len=8))
    model.lm_head.weight.data[0, 3] = value
    with pytest.raises(ValueError, match="NaN|inf"):
        generate(model, [1, 2, 3], 4, temperature=temperature, seed=0)
