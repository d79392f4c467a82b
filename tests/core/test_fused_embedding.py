"""The fused token + position embedding and the row scatter behind every embedding gradient."""

import numpy as np
import pytest

import tinytorch
from tinytorch.core import functions as F
from tinytorch.core.ops.nn import _ONE_HOT_LIMIT, scatter_rows
from tinytorch.core.tensor import Tensor
from tinytorch.nn.transformer import GPT
from tinytorch.testing import gradcheck


@pytest.mark.parametrize("num_rows, n", [(7, 50), (_ONE_HOT_LIMIT // 100 + 1, 101)])
def test_scatter_rows_matches_add_at_in_both_branches(num_rows, n):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, min(num_rows, 40), n)  # repeated ids, and rows nobody picks
    values = rng.standard_normal((n, 5))
    expected = np.zeros((num_rows, 5))
    np.add.at(expected, ids, values)
    np.testing.assert_allclose(scatter_rows(ids, values, num_rows), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("start", [0, 3])
def test_token_position_embedding_gradcheck(start):
    rng = np.random.default_rng(1)
    tokens = Tensor(rng.standard_normal((6, 4)), requires_grad=True, dtype=np.float64)
    positions = Tensor(rng.standard_normal((9, 4)), requires_grad=True, dtype=np.float64)
    ids = np.array([[1, 1, 5], [0, 1, 2]])  # a repeated id, and position rows outside the window
    out = F.token_position_embedding(tokens, positions, ids, start)
    np.testing.assert_array_equal(out.data, tokens.data[ids] + positions.data[start : start + 3])
    assert gradcheck(lambda a, b: F.token_position_embedding(a, b, ids, start), tokens, positions)


def test_gpt_input_equals_separate_lookups():
    tinytorch.manual_seed(0)
    model = GPT(11, 8, 1, 2, 16)
    ids = np.random.default_rng(0).integers(0, 11, (3, 5))
    fused = F.token_position_embedding(model.token_embedding.weight, model.position_embedding.weight, ids)
    separate = model.token_embedding(ids) + model.position_embedding(np.arange(5))
    np.testing.assert_array_equal(fused.data, separate.data)
