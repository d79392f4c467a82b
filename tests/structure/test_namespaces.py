"""The PyTorch-style namespaces and TinyTorch's older paths hand out the objects of the modules where the
code lives, and the functional forms compute what their modules compute."""

import importlib

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor

# (namespace or older path, module where the code lives)
ALIASES = [
    ("tinytorch.nn", "tinytorch.nn.layers"),
    ("tinytorch.nn", "tinytorch.nn.transformer"),
    ("tinytorch.optim", "tinytorch.optim.optimizers"),
    ("tinytorch.data.loader", "tinytorch.data.dataloader"),
    ("tinytorch.data.python_snippets", "tinytorch.text.corpus"),
    ("tinytorch.text.embeddings", "tinytorch.nn.embeddings"),
    ("tinytorch.models.transformer", "tinytorch.nn.transformer"),
    ("tinytorch.core.layers", "tinytorch.nn.layers"),
    ("tinytorch.core.training", "tinytorch.training.trainer"),
    ("tinytorch.core.tokenization", "tinytorch.text.tokenization"),
]


@pytest.mark.parametrize("alias, core", ALIASES)
def test_namespace_names_are_the_core_objects(alias, core):
    alias_module, core_module = importlib.import_module(alias), importlib.import_module(core)
    shared = [n for n in dir(alias_module) if not n.startswith("_") and hasattr(core_module, n)]
    assert shared, f"{alias} shares no public name with {core}"
    for name in shared:
        assert getattr(alias_module, name) is getattr(core_module, name), f"{alias}.{name} is a copy, not {core}.{name}"


@pytest.mark.parametrize("alias", ["tinytorch", "tinytorch.autograd", "tinytorch.nn", "tinytorch.optim",
                                   "tinytorch.data.loader", "tinytorch.data.python_snippets",
                                   "tinytorch.text.embeddings", "tinytorch.models.transformer",
                                   "tinytorch.core.layers", "tinytorch.core.optimizers"])
def test_namespaces_define_nothing_of_their_own(alias):
    module = importlib.import_module(alias)
    own = [n for n, v in vars(module).items()
           if not n.startswith("_") and getattr(v, "__module__", None) == alias]
    assert not own, f"{alias} defines {own}; namespaces only re-export (see tinytorch/README.md for the homes)"


def test_functional_forms_equal_their_modules():
    import tinytorch.nn.functional as F

    rng = np.random.default_rng(0)
    logits, targets = Tensor(rng.standard_normal((6, 5))), np.array([0, 4, 2, 2, 1, 3])
    assert F.cross_entropy(logits, targets).item() == tinytorch.CrossEntropyLoss()(logits, targets).item()
    predictions, wanted = Tensor(rng.standard_normal((3, 2))), rng.standard_normal((3, 2))
    assert F.mse_loss(predictions, wanted).item() == tinytorch.MSELoss()(predictions, wanted).item()
    x = Tensor(np.ones((4, 8)))
    tinytorch.manual_seed(5)
    by_function = F.dropout(x, 0.25).data
    tinytorch.manual_seed(5)
    np.testing.assert_array_equal(by_function, tinytorch.nn.Dropout(0.25)(x).data)
    assert F.dropout(x, 0.25, training=False) is x
    table = Tensor(rng.standard_normal((5, 3)))
    np.testing.assert_array_equal(F.embedding(np.array([[4, 0]]), table).data, table.data[[[4, 0]]])


@pytest.mark.parametrize("call, error, message", [
    (lambda F: F.dropout(Tensor(np.ones(3)), 1.5), ValueError, "Dropout: p must be in"),
    (lambda F: F.embedding(np.array([7]), Tensor(np.ones((5, 3)))), ValueError,
     r"embedding: token id 7 is outside the vocabulary \[0, 5\)"),
    (lambda F: F.mse_loss(Tensor(np.ones(3)), np.ones(4)), ValueError, "differ in shape"),
])
def test_functional_forms_check_arguments_like_their_modules(call, error, message):
    import tinytorch.nn.functional as F

    with pytest.raises(error, match=message):
        call(F)
