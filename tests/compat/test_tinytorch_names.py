"""TinyTorch's own names, kept so its scripts and test files run here: _grad_fn, EmbeddingBackward, dropout_prob=, quiet=."""

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor
from tinytorch.nn.transformer import MLP, TransformerBlock
from tinytorch.nn import Embedding


def leaf():
    return Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, dtype=np.float64)


def test_grad_fn_is_none_on_leaves_and_the_making_op_otherwise():
    x = leaf()
    assert x._grad_fn is None and (x + 1)._grad_fn is not None
    with tinytorch.no_grad():
        assert (x + 1)._grad_fn is None
    assert (Tensor(np.ones(3)) * 2)._grad_fn is None  # nothing to differentiate


def test_embedding_backward_node_is_named_as_tinytorch_names_it():
    out = Embedding(10, 4)(np.array([[1, 3, 5]]))
    assert type(out._grad_fn).__name__ == "EmbeddingBackward"


def test_enable_autograd_accepts_quiet_and_checks_it(capsys):
    tinytorch.enable_autograd()
    tinytorch.enable_autograd(quiet=True)
    assert capsys.readouterr().out == ""
    with pytest.raises(TypeError, match="quiet must be a bool"):
        tinytorch.enable_autograd(quiet="yes")


@pytest.mark.parametrize("cls, args", [(MLP, (8,)), (TransformerBlock, (8, 2))])
def test_dropout_prob_is_the_same_rate_as_dropout(cls, args):
    spelled_tinytorch, spelled_ours = cls(*args, dropout_prob=0.25), cls(*args, dropout=0.25)
    assert spelled_tinytorch.dropout.p == spelled_ours.dropout.p == 0.25
    assert len(spelled_tinytorch.parameters()) == len(cls(*args).parameters())  # dropout adds no parameters


def test_mlp_dropout_drops_in_training_and_is_the_identity_in_eval():
    tinytorch.manual_seed(0)
    mlp, x = MLP(8, dropout_prob=0.5), Tensor(np.ones((4, 8)))
    mlp.eval()
    plain = mlp(x).data
    mlp.train()
    dropped = mlp(x).data
    assert np.any(dropped == 0.0) and not np.any(plain == 0.0)
    kept = dropped != 0.0
    np.testing.assert_allclose(dropped[kept], 2.0 * plain[kept], rtol=1e-6)  # inverted dropout scales by 1/(1-p)


@pytest.mark.parametrize("cls, args", [(MLP, (8,)), (TransformerBlock, (8, 2))])
def test_dropout_and_dropout_prob_together_is_a_type_error(cls, args):
    with pytest.raises(TypeError, match=f"{cls.__name__}: give dropout= or dropout_prob=, not both"):
        cls(*args, dropout=0.1, dropout_prob=0.2)


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_a_bad_dropout_prob_is_refused(rate):
    with pytest.raises(ValueError, match=rf"TransformerBlock: dropout_prob must be in \[0, 1\), got {rate}"):
        TransformerBlock(8, 2, dropout_prob=rate)
