"""Clear errors on bad input, and the losses' values checked against hand computation."""

import math

import numpy as np
import pytest

from tinytorch import Tensor
from tinytorch.nn.layers import Linear
from tinytorch.nn.losses import BinaryCrossEntropyLoss, CrossEntropyLoss, MSELoss, log_softmax


def test_matmul_shape_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not match for matmul \(3 != 4\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"shapes \(\) and \(3,\)"):
        Tensor(2.0) @ Tensor(np.ones(3))


def test_linear_shape_mismatch_names_the_shapes():
    layer = Linear(4, 2)
    message = r"Linear: input feature size 3 does not match weight shape \(4, 2\) \(input shape \(5, 3\)\)"
    with pytest.raises(ValueError, match=message):
        layer(Tensor(np.ones((5, 3))))


def test_reshape_to_an_incompatible_size():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into \(4, -1\)"):
        x.reshape(4, -1)
    with pytest.raises(ValueError, match=r"into \(7,\)"):
        x.reshape((7,))


def test_permute_and_reduction_axis_errors():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"permute: \(0, 0\) is not a permutation of the 2 axes of shape \(2, 3\)"):
        x.permute(0, 0)
    with pytest.raises(IndexError, match=r"permute: dims 2 is out of range for a 2-d tensor"):
        x.permute(0, 2)
    with pytest.raises(IndexError, match=r"axis 2 is out of range for a 2-d tensor \(expected \[-2, 1\]\)"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match="var: 1 values are too few for ddof=1"):
        Tensor(np.ones((3, 1))).var(axis=1, ddof=1)


def test_gelu_rejects_an_unknown_form():
    with pytest.raises(ValueError, match="approximate must be 'tanh' or 'none', got 'erf'"):
        Tensor(np.ones(2)).gelu(approximate="erf")


def test_tensor_rejects_non_numeric_data():
    with pytest.raises(TypeError, match="cannot hold data of dtype <U1"):
        Tensor(["a", "b"])


@pytest.mark.parametrize("targets, error, match", [
    (np.array([0, 3, 1]), ValueError, r"CrossEntropyLoss: target 3 is outside \[0, 3\)"),
    (np.array([0, -1, 1]), ValueError, r"CrossEntropyLoss: target -1 is outside \[0, 3\)"),
    (np.array([0.0, 1.5, 1.0]), ValueError, r"CrossEntropyLoss: target 1.5 is not a whole number"),
    (np.array([0.0, np.nan, 1.0]), ValueError, r"CrossEntropyLoss: target nan is not a whole number"),
    (np.array([0, 1]), ValueError, r"logits of shape \(3, 3\) need targets of shape \(3,\), got \(2,\)"),
    (np.array(["a", "b", "c"]), TypeError, r"CrossEntropyLoss: targets must be integers, got dtype <U1"),
], ids=["too_large", "negative", "fractional", "nan", "wrong_shape", "strings"])
def test_cross_entropy_rejects_bad_targets(targets, error, match):
    with pytest.raises(error, match=match):
        CrossEntropyLoss()(Tensor(np.zeros((3, 3))), targets)


def test_cross_entropy_out_of_range_allowed_when_ignored():
    logits = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]]))
    loss = CrossEntropyLoss(ignore_index=-100)(Tensor(logits, dtype=np.float64), np.array([0, -100]))
    assert abs(loss.item() - math.log(2)) < 1e-12
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        CrossEntropyLoss(reduction="avg")


def test_losses_reject_mismatched_shapes():
    with pytest.raises(ValueError, match=r"MSELoss: predictions \(2, 3\) and targets \(3, 2\) differ in shape"):
        MSELoss()(Tensor(np.ones((2, 3))), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"BinaryCrossEntropyLoss: predictions \(4,\) and targets \(2,\)"):
        BinaryCrossEntropyLoss()(Tensor(np.full(4, 0.5)), np.ones(2))


def test_mse_loss_value_and_gradient():
    pred = Tensor(np.array([[1.0, 2.0], [3.0, -1.0]]), requires_grad=True, dtype=np.float64)
    target = np.array([[0.0, 2.0], [1.0, 1.0]])
    loss = MSELoss()(pred, target)
    assert loss.item() == (1 + 0 + 4 + 4) / 4
    loss.backward()
    np.testing.assert_allclose(pred.grad, 2 * (pred.data - target) / 4)


def test_cross_entropy_value_nc_by_hand():
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    targets = np.array([0, 2])
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -(math.log(probs[0, 0]) + math.log(probs[1, 2])) / 2
    x = Tensor(logits, requires_grad=True, dtype=np.float64)
    loss = CrossEntropyLoss()(x, targets)
    assert abs(loss.item() - expected) < 1e-12
    loss.backward()
    onehot = np.eye(3)[targets]
    np.testing.assert_allclose(x.grad, (probs - onehot) / 2, atol=1e-14)
    total = CrossEntropyLoss(reduction="sum")(Tensor(logits, dtype=np.float64), targets)
    assert abs(total.item() - 2 * expected) < 1e-12


def test_cross_entropy_value_btc_by_hand_with_float_targets():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2, 3, 4))  # (B, T, C)
    targets = np.array([[1.0, 0.0, 3.0], [2.0, 2.0, 0.0]])  # whole-number floats, as TinyTorch passes them
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets.astype(int)[..., None], axis=-1)[..., 0]  # (B, T)
    loss = CrossEntropyLoss()(Tensor(logits, dtype=np.float64), Tensor(targets))
    assert abs(loss.item() + picked.mean()) < 1e-12
    per_token = CrossEntropyLoss(reduction="none")(Tensor(logits, dtype=np.float64), targets)
    assert per_token.shape == (2, 3)
    np.testing.assert_allclose(per_token.data, -picked, atol=1e-12)
    ignored = CrossEntropyLoss(ignore_index=0)(Tensor(logits, dtype=np.float64), targets)
    keep = targets != 0
    assert abs(ignored.item() + picked[keep].mean()) < 1e-12


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_huge_logits_stay_finite_and_correct(dtype):
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4], [-1e4, -1e4, -1e4]])
    x = Tensor(logits, requires_grad=True, dtype=dtype)
    loss = CrossEntropyLoss()(x, np.array([0, 2, 1]))
    expected = (0.0 + math.log(2) + math.log(3)) / 3  # exact log-sum-exp of each row
    assert np.isfinite(loss.item()) and abs(loss.item() - expected) < 1e-6
    loss.backward()
    assert np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(x.grad, np.array([[0, 0, 0], [0, 0.5, -0.5], [1 / 3, -2 / 3, 1 / 3]]) / 3, atol=1e-7)
    row = log_softmax(Tensor(logits, dtype=dtype)).data[1]
    np.testing.assert_allclose(row, [-1e4 - math.log(2), -math.log(2), -math.log(2)], rtol=1e-6)


def test_binary_cross_entropy_value_and_gradient():
    p = np.array([0.9, 0.2, 0.6, 0.5])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    x = Tensor(p, requires_grad=True, dtype=np.float64)
    loss = BinaryCrossEntropyLoss()(x, y)
    assert abs(loss.item() - expected) < 1e-12
    loss.backward()
    np.testing.assert_allclose(x.grad, (p - y) / (p * (1 - p)) / 4, rtol=1e-10)


def test_binary_cross_entropy_clips_certain_predictions():
    """Predictions of exactly 0 and 1 are clipped to [1e-7, 1 - 1e-7]: finite loss and gradient."""
    x = Tensor(np.array([1.0, 0.0]), requires_grad=True, dtype=np.float64)
    loss = BinaryCrossEntropyLoss()(x, np.array([0.0, 1.0]))
    assert abs(loss.item() + math.log(1e-7)) < 1e-6
    loss.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])  # clipped: no gradient past the bound
    in_float32 = BinaryCrossEntropyLoss()(Tensor(np.array([1.0, 0.0])), np.array([0.0, 1.0]))
    assert in_float32.dtype == np.float32 and 15.0 < in_float32.item() < 17.0


def test_cross_entropy_on_integer_logits_is_computed_in_float():
    """Integer logits are scores like any other: the loss is log(e + e^2 + e^3) - 1, not a truncated int."""
    logits = np.array([[1, 2, 3]])
    expected = math.log(math.e + math.e**2 + math.e**3) - 1.0  # 2.4076...
    loss = CrossEntropyLoss()(logits, np.array([0]))
    assert loss.dtype.kind == "f"
    assert abs(loss.item() - expected) < 1e-5
    torch = pytest.importorskip("torch")
    reference = torch.nn.functional.cross_entropy(torch.tensor(logits, dtype=torch.float32), torch.tensor([0]))
    assert abs(loss.item() - reference.item()) < 1e-5


@pytest.mark.parametrize("predictions", [[0.5, 1.5], [-0.1, 0.5], [np.nan, 0.5]])
def test_binary_cross_entropy_rejects_predictions_outside_0_1(predictions):
    """PyTorch raises here too: clipping a score that is not a probability would hide the bug upstream."""
    with pytest.raises(ValueError, match=r"BinaryCrossEntropyLoss: predictions must be probabilities in \[0, 1\]"):
        BinaryCrossEntropyLoss()(np.array(predictions), np.ones(2))
