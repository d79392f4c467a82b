"""Finite-difference gradient checking: the proof that every backward is right.

`gradcheck(fn, *inputs)` compares autograd's gradient of sum(fn(*inputs) * w), for a fixed random
weighting w, with central differences in float64.
"""

from __future__ import annotations

import numpy as np

from .core.tensor import Tensor
from .grading.reference import central_difference


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with the numerical one."""


def _as_float64(x):
    if isinstance(x, Tensor) and x.dtype.kind == "f":
        return Tensor(x.data.astype(np.float64), requires_grad=x.requires_grad, dtype=np.float64)
    return x


def numerical_grad(scalar_fn, array: np.ndarray, eps: float) -> np.ndarray:
    """d scalar_fn / d array by central differences, perturbing `array` in place one entry at a time."""
    grad = np.zeros(array.shape, dtype=array.dtype)
    for i in np.ndindex(array.shape):  # by index, not through reshape: a strided view (a column block) is perturbed too
        grad[i] = central_difference(scalar_fn, array, i, eps)
    return grad


def gradcheck(fn, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4, name: str | None = None, seed: int = 0) -> bool:
    """Check fn's gradients for every input Tensor with requires_grad=True; raise GradcheckError if off.

    Inputs are promoted to float64. The output is reduced with a random weighting so that every
    output element matters. Returns True when all gradients match (so it can sit in an assert).
    """
    op = name or getattr(fn, "__name__", repr(fn))
    inputs = [_as_float64(x) for x in inputs]
    checked = [(i, x) for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(f"gradcheck({op}): no input has requires_grad=True")

    out = fn(*inputs)
    weights = np.random.default_rng(seed).standard_normal(out.shape)

    def scalar() -> float:
        return float(np.sum(fn(*inputs).data.astype(np.float64) * weights))

    for _, x in checked:
        x.grad = None
    (out * Tensor(weights, dtype=np.float64)).sum().backward()

    for index, x in checked:
        expected = numerical_grad(scalar, x.data, eps)
        received = x.grad
        if received is None:
            raise GradcheckError(f"gradcheck({op}): input {index} of shape {x.shape} received no gradient")
        error = np.abs(received - expected) - (atol + rtol * np.abs(expected))
        if np.any(error > 0):
            worst = np.unravel_index(np.argmax(error), x.shape)
            raise GradcheckError(
                f"gradcheck({op}): input {index} of shape {x.shape}, element {tuple(int(w) for w in worst)}: "
                f"expected {expected[worst]:.8g} (finite differences), received {received[worst]:.8g} "
                f"(autograd); max abs difference {np.max(np.abs(received - expected)):.3g}"
            )
    return True
