"""Test plan layer 1.1: every arithmetic op keeps its gradient, with the right values (6 tests)."""

import math

import numpy as np

from tinytorch import Tensor
from tinytorch.core import functions as F
from tinytorch.testing import gradcheck


def _leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True, dtype=dtype)


A_VALUES, B_VALUES = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]]), np.array([2.0, -0.5, 4.0])


def _check_binary(op, grad_a, grad_b):
    """Backward of sum(op(a, b)) for a (2, 3), b (3,) equals the given gradients, in the inputs' shapes."""
    a, b = _leaf(A_VALUES), _leaf(B_VALUES)
    out = op(a, b)
    assert out.requires_grad and out.shape == (2, 3)
    out.sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    np.testing.assert_allclose(a.grad, grad_a, rtol=1e-12)
    np.testing.assert_allclose(b.grad, grad_b, rtol=1e-12)


def test_addition_and_subtraction_keep_gradients():
    """d(a+b) = (1, 1), d(a-b) = (1, -1); b was broadcast over 2 rows, so its gradient is summed."""
    _check_binary(lambda a, b: a + b, np.ones((2, 3)), np.full(3, 2.0))
    _check_binary(lambda a, b: a - b, np.ones((2, 3)), np.full(3, -2.0))
    _check_binary(lambda a, b: b - a, -np.ones((2, 3)), np.full(3, 2.0))


def test_multiplication_and_division_keep_gradients():
    """d(ab) = (b, a), d(a/b) = (1/b, -a/b^2)."""
    _check_binary(lambda a, b: a * b, np.broadcast_to(B_VALUES, (2, 3)), A_VALUES.sum(axis=0))
    _check_binary(
        lambda a, b: a / b, np.broadcast_to(1 / B_VALUES, (2, 3)), (-A_VALUES / B_VALUES**2).sum(axis=0)
    )


def test_backward_matches_hand_computed_gradients():
    """z = (x*y + x/y - y) ** 2 at x=3, y=2: dz/dx = 2u(y + 1/y), dz/dy = 2u(x - x/y^2 - 1)."""
    x, y = _leaf(3.0), _leaf(2.0)
    z = (x * y + x / y - y) ** 2
    u = 3 * 2 + 3 / 2 - 2  # 5.5
    assert z.item() == u**2
    z.backward()
    assert x.grad.shape == () and y.grad.shape == ()
    np.testing.assert_allclose(x.grad, 2 * u * (2 + 1 / 2), rtol=1e-14)
    np.testing.assert_allclose(y.grad, 2 * u * (3 - 3 / 4 - 1), rtol=1e-14)

    # A shared sub-expression gets the sum of both paths: d/dx (e^x * x) = e^x (1 + x).
    x = _leaf([0.0, 1.0, -2.0])
    (x.exp() * x).sum().backward()
    np.testing.assert_allclose(x.grad, np.exp(x.data) * (1 + x.data), rtol=1e-14)


def _gelu_tanh(v):
    return 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))


def _gelu_exact(v):
    return np.array([0.5 * s * (1 + math.erf(s / math.sqrt(2))) for s in v.ravel()]).reshape(v.shape)


def test_gelu_gradient_flow():
    """Both GELU forms: forward matches an independent formula, the gradient matches finite differences."""
    values = np.linspace(-4.0, 4.0, 33)
    eps = 1e-6
    for approximate, reference in [("tanh", _gelu_tanh), ("none", _gelu_exact)]:
        x = _leaf(values)
        y = x.gelu(approximate=approximate)
        np.testing.assert_allclose(y.data, reference(values), atol=1e-14, rtol=1e-12)
        y.sum().backward()
        numeric = (reference(values + eps) - reference(values - eps)) / (2 * eps)
        np.testing.assert_allclose(x.grad, numeric, atol=1e-8, rtol=1e-7)
        assert abs(x.grad[16] - 0.5) < 1e-12  # GELU'(0) = 1/2 in both forms


def test_layernorm_built_from_primitives():
    """(x - mean) / sqrt(var + eps) * gamma + beta from mean, sub, mul, sqrt, div passes gradcheck."""
    rng = np.random.default_rng(0)
    eps = 1e-5

    def layer_norm(x, gamma, beta):
        mean = x.mean(axis=-1, keepdims=True)  # (B, T, 1)
        centered = x - mean
        var = (centered * centered).mean(axis=-1, keepdims=True)
        return centered / (var + eps).sqrt() * gamma + beta

    x, gamma, beta = (_leaf(rng.standard_normal(s)) for s in [(2, 3, 5), (5,), (5,)])
    assert gradcheck(layer_norm, x, gamma, beta, name="layer_norm_primitives")

    out = layer_norm(x, gamma, beta)
    fused = F.layer_norm(x, gamma, beta, eps=eps)
    np.testing.assert_allclose(out.data, fused.data, atol=1e-12)
    w = rng.standard_normal(out.shape)
    (out * w).sum().backward()
    grads = [t.grad.copy() for t in (x, gamma, beta)]
    for t in (x, gamma, beta):
        t.grad = None
    (fused * w).sum().backward()
    for composed, t in zip(grads, (x, gamma, beta)):
        np.testing.assert_allclose(composed, t.grad, atol=1e-10)


def test_reshape_preserves_gradient_shape():
    """A gradient flowing back through reshape (with -1) has the input's shape and values."""
    x = _leaf(np.arange(24.0).reshape(2, 3, 4))
    y = x.reshape(6, -1)  # (6, 4)
    assert y.shape == (6, 4)
    weights = np.arange(24.0).reshape(6, 4)
    (y * weights).sum().backward()
    assert x.grad.shape == (2, 3, 4)
    np.testing.assert_array_equal(x.grad, weights.reshape(2, 3, 4))
