"""PyTorch's semantics where users rely on them: repeated parameters, all-ignored targets, true division of integers."""

import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor
from tinytorch.nn.layers import Linear
from tinytorch.nn.losses import CrossEntropyLoss
from tinytorch.optim.optimizers import SGD, Adam, AdamW


# ----- the same parameter twice in an optimizer ----------------------------------------------------
@pytest.mark.parametrize("optimizer", [SGD, Adam, AdamW])
@pytest.mark.parametrize("layout", ["list", "one group", "two groups", "module twice"])
def test_a_parameter_listed_twice_is_refused(optimizer, layout):
    layer = Linear(3, 2)
    w, b = layer.weight, layer.bias
    params = {"list": [w, b, w],
              "one group": [{"params": [w, b, b]}],
              "two groups": [{"params": [w]}, {"params": [b, w]}],
              "module twice": list(layer.parameters()) + list(layer.parameters())}[layout]
    with pytest.raises(ValueError, match="twice|more than one group") as error:
        optimizer(params, lr=0.1)
    assert "(3, 2)" in str(error.value) or "(2,)" in str(error.value)  # names which parameter


def test_distinct_parameters_of_equal_values_are_accepted():
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    assert len(SGD([a, b], lr=0.1).params) == 2


def test_torch_refuses_a_parameter_in_two_groups_too():
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.ones(3))
    with pytest.raises(ValueError):
        torch.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


# ----- cross-entropy with every target ignored -----------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 7), (1, 2)])
@pytest.mark.parametrize("ignore", [-100, 0, 2])
def test_all_ignored_mean_is_nan_with_zero_gradients_and_no_warning(shape, ignore):
    logits = Tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32), requires_grad=True)
    targets = np.full(shape[:-1], ignore)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = CrossEntropyLoss(ignore_index=ignore)(logits, targets)
        assert loss.dtype == np.float32 and np.isnan(loss.item())
        loss.backward()
    np.testing.assert_array_equal(logits.grad, np.zeros(shape, np.float32))
    summed = CrossEntropyLoss(ignore_index=ignore, reduction="sum")(logits, targets)
    assert summed.item() == 0.0


def test_all_ignored_matches_torch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    for reduction in ("mean", "sum", "none"):
        t = torch.tensor(data, requires_grad=True)
        ref = torch.nn.functional.cross_entropy(t, torch.full((6,), -100), reduction=reduction)
        ref.sum().backward()
        x = Tensor(data, requires_grad=True)
        ours = CrossEntropyLoss(ignore_index=-100, reduction=reduction)(x, np.full(6, -100))
        ours.sum().backward()
        np.testing.assert_array_equal(ours.data, ref.detach().numpy())
        np.testing.assert_array_equal(x.grad, t.grad.numpy())


def test_some_ignored_still_averages_over_the_rest():
    logits = Tensor(np.zeros((3, 4), np.float32))
    loss = CrossEntropyLoss(ignore_index=-1)(logits, np.array([1, -1, 2]))
    assert loss.item() == pytest.approx(np.log(4))


# ----- integer tensors and true division -----------------------------------------------------------
INTEGER_EXPRESSIONS = [
    "a / 2", "a / b", "2 / a", "a / 2.0", "a / b.float()", "a + 1.5", "a * 0.5", "a - 0.25", "a ** 0.5",
    "a.mean()", "a.exp()", "a.log()", "a.sqrt()", "a.tanh()", "a.sigmoid()", "a.softmax(-1)",
    "a.log_softmax(-1)", "a.float() / b", "a * 2", "a + b", "a.sum()", "a.abs()", "a.relu()",
]


@pytest.mark.filterwarnings("ignore:divide by zero")  # 2 / False is inf, in torch too
@pytest.mark.parametrize("int_dtype", [np.int64, np.int32, np.bool_])
@pytest.mark.parametrize("expression", INTEGER_EXPRESSIONS)
def test_integer_math_gives_torchs_dtype_and_values(expression, int_dtype):
    torch = pytest.importorskip("torch")
    values = np.array([[1, 2, 3], [4, 9, 6]]) if int_dtype is not np.bool_ else np.array([[1, 0, 1], [0, 1, 1]])
    divisor = np.array([[2, 3, 4], [5, 7, 8]]).astype(int_dtype)
    a, b = Tensor(values.astype(int_dtype)), Tensor(divisor)
    ta, tb = torch.from_numpy(values.astype(int_dtype)), torch.from_numpy(divisor)
    try:
        expected = eval(expression, {}, {"a": ta, "b": tb})
    except RuntimeError:  # torch has no such kernel for this dtype (e.g. bool - float)
        return
    ours = eval(expression, {}, {"a": a, "b": b})
    assert str(ours.dtype) == str(expected.dtype).replace("torch.", ""), expression
    np.testing.assert_allclose(ours.data.astype(np.float64), expected.numpy().astype(np.float64), rtol=1e-6)


@pytest.mark.parametrize("expression", ["a / 2", "a / b", "a.mean()", "a * 0.5", "a.exp()", "a ** 0.5"])
def test_integer_math_is_float32_without_torch(expression):
    a, b = Tensor(np.array([1, 2, 3])), Tensor(np.array([2, 2, 2]))
    assert eval(expression).dtype == np.float32


def test_float64_stays_float64_and_astype_gives_what_it_is_asked():
    a = Tensor(np.array([1, 2, 3]))
    assert a.double().dtype == np.float64 and (a.double() / 2).dtype == np.float64
    assert (a.astype(np.float64) + Tensor(np.ones(3), dtype=np.float64)).dtype == np.float64
    x = Tensor(np.ones(3), requires_grad=True, dtype=np.float64)
    (x / 3).sum().backward()
    assert x.grad.dtype == np.float64
