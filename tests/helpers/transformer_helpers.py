"""Shared helpers for the transformer tests: float64 models and finite-difference checks of parameters."""

from __future__ import annotations

import numpy as np

from tinytorch import Tensor
from tinytorch.testing import numerical_grad


def to_float64(module):
    """Convert every parameter of `module` to float64 in place (for finite-difference checks)."""
    for p in module.parameters():
        p.data = p.data.astype(np.float64)
        p.grad = None
    return module


def randomize(module, seed: int = 0, scale: float = 0.5):
    """Replace every parameter by N(0, scale) noise (gamma around 1), so no gradient is trivially tiny.

    A freshly initialised GPT has zero biases and 0.02-sized weights, whose gradients are so small
    that an absolute finite-difference tolerance would accept almost anything.
    """
    rng = np.random.default_rng(seed)
    for name, p in module.named_parameters():
        noise = rng.normal(0.0, scale, p.shape)
        p.data = (1.0 + noise if name.endswith("gamma") else noise).astype(p.data.dtype)
    return module


def x64(shape, seed: int = 0, requires_grad: bool = True) -> Tensor:
    """A float64 standard-normal input tensor."""
    data = np.random.default_rng(seed).standard_normal(shape)
    return Tensor(data, requires_grad=requires_grad, dtype=np.float64)


def weighted_sum(out: Tensor, seed: int = 1) -> Tensor:
    """sum(out * w) for a fixed random w, so every output element matters to the scalar."""
    w = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
    return (out * Tensor(w, dtype=out.dtype)).sum()


def check_gradients(module, loss_fn, inputs=(), eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-8):
    """Backprop `loss_fn()` (a scalar Tensor) and compare the gradient of every parameter of `module`
    and every input Tensor with central differences; returns {name: analytic gradient}.

    Everything must already be float64. Tolerances are tight: float64 central differences are
    accurate to about 1e-9 relative, so a wrong backward fails here.
    """
    named = list(module.named_parameters()) + [(f"input{i}", x) for i, x in enumerate(inputs)]
    for _, t in named:
        assert t.dtype == np.float64, "check_gradients needs float64 tensors"
        t.grad = None
    loss = loss_fn()
    loss.backward()

    def scalar() -> float:
        return float(loss_fn().data)

    grads = {}
    for name, t in named:
        assert t.grad is not None, f"{name} received no gradient"
        analytic = np.array(t.grad, dtype=np.float64)
        numeric = numerical_grad(scalar, t.data, eps)
        scale = max(1.0, float(np.abs(numeric).max()))
        np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol * scale,
                                   err_msg=f"gradient of {name} disagrees with finite differences")
        grads[name] = analytic
    return grads


def assert_nonzero_finite(name: str, grad) -> None:
    """The parameter received a gradient, all finite, and not all zero."""
    assert grad is not None, f"{name} received no gradient"
    assert np.all(np.isfinite(grad)), f"{name} has a non-finite gradient"
    assert np.abs(grad).max() > 0.0, f"{name} has an all-zero gradient"


def assert_key_bias_grad(name: str, grad, tol: float) -> None:
    """The key-projection bias gets a finite gradient that is zero up to rounding.

    Adding b_k to every key adds q . b_k to every score of a query's row; softmax is invariant to
    a constant shift of its row, so the output, and any loss, does not depend on b_k at all.
    """
    assert grad is not None, f"{name} received no gradient"
    assert np.all(np.isfinite(grad)), f"{name} has a non-finite gradient"
    assert np.abs(grad).max() <= tol, f"{name} gradient {np.abs(grad).max():.3g} should be ~0 (shift invariance)"
