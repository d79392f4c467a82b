"""Elementwise ops: arithmetic with broadcasting, and the pointwise math functions.

Each backward multiplies the output gradient by the local derivative and, for binary ops,
sums it back to each input's shape with `unbroadcast`.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function, floating, unbroadcast
from .blocks import in_blocks
from .erf import erf


class Add(Function):
    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return a + b

    def backward(self, grad):
        sa, sb = self.shapes
        return unbroadcast(grad, sa), unbroadcast(grad, sb)


class Sub(Function):
    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return a - b

    def backward(self, grad):
        sa, sb = self.shapes
        gb = unbroadcast(-grad, sb) if self.needs_input_grad[1] else None
        return unbroadcast(grad, sa), gb


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        a, b = self.a, self.b
        ga = unbroadcast(grad * b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(grad * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, grad):
        a, b = self.a, self.b
        ga = unbroadcast(grad / b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-grad * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


class Power(Function):
    """x ** p for a constant exponent p."""

    def forward(self, a, exponent):
        self.a, self.exponent = a, exponent
        return a**exponent

    def backward(self, grad):
        p = self.exponent
        if p == 0:  # d/dx x^0 = 0 everywhere; the formula would give 0 * inf = nan at x = 0
            return np.zeros_like(grad)
        return grad * (p * self.a ** (p - 1))


class PowTensor(Function):
    """a ** b where both are tensors: d/da = b a^(b-1), d/db = a^b ln a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, grad):
        a, b = self.a, self.b
        ga = gb = None
        if self.needs_input_grad[0]:
            with np.errstate(divide="ignore", invalid="ignore"):
                # where b == 0 the derivative is 0, also at a = 0 (not 0 * inf = nan), as in torch
                ga = unbroadcast(np.where(b == 0, 0.0, grad * b * a ** (b - 1)), a.shape)
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0)
            gb = unbroadcast(grad * self.out * log_a, b.shape)
        return ga, gb


class Exp(Function):
    def forward(self, a):
        self.out = np.exp(floating(a))  # bools and ints in float32, not numpy's float16 or float64
        return self.out

    def backward(self, grad):
        return grad * self.out


class Log(Function):
    def forward(self, a):
        self.a = a = floating(a)
        return np.log(a)

    def backward(self, grad):
        return grad / self.a


class Sqrt(Function):
    def forward(self, a):
        self.out = np.sqrt(floating(a))
        return self.out

    def backward(self, grad):
        return grad / (2 * self.out)


class Abs(Function):
    def forward(self, a):
        self.a = a
        return np.abs(a)

    def backward(self, grad):
        return grad * np.sign(self.a)


class Tanh(Function):
    def forward(self, a):
        self.out = np.tanh(floating(a))
        return self.out

    def backward(self, grad):
        return grad * (1 - self.out * self.out)


def stable_sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-a) without overflow for large |a|."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


class Sigmoid(Function):
    def forward(self, a):
        self.out = stable_sigmoid(floating(a))
        return self.out

    def backward(self, grad):
        return grad * self.out * (1 - self.out)


class ReLU(Function):
    def forward(self, a):
        self.positive = a > 0
        return a * self.positive

    def backward(self, grad):
        return grad * self.positive


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_C = 0.044715


class GELU(Function):
    """GELU(x) = x * Phi(x); `approximate="tanh"` uses GPT-2's tanh form, "none" the exact erf.

    The tanh form keeps h = 0.5 (1 + tanh(u)) for backward. Its eight passes forward and nine
    backward run slice by slice (`blocks`), so on a large activation they read the cache, not
    main memory. The formulas plainly: `reference.gelu_tanh` and `reference.gelu_tanh_grad`.
    """

    def forward(self, a, approximate="tanh"):
        a = floating(a)  # integers and bools compute in float32
        self.a, self.approximate = a, approximate
        if approximate == "tanh":
            out, self.h = np.empty(a.shape, a.dtype), np.empty(a.shape, a.dtype)
            in_blocks(_gelu_tanh, a, self.h, out)
            return out
        if approximate == "none":
            self.cdf = 0.5 * (1 + erf(a * _INV_SQRT_2))
            return a * self.cdf
        raise ValueError(f"gelu: approximate must be 'tanh' or 'none', got {approximate!r}")

    def backward(self, grad):
        a = self.a
        if self.approximate == "tanh":
            out = np.empty(a.shape, dtype=a.dtype)  # a smaller gradient broadcasts in the single whole-array call
            in_blocks(_gelu_tanh_grad, a, self.h, grad, out)
            return out
        pdf = _INV_SQRT_2PI * np.exp(-0.5 * a * a)
        return grad * (self.cdf + a * pdf)


def _gelu_tanh(a, h, out) -> None:
    """out = a * h with h = 0.5 (1 + tanh(u)), u = sqrt(2/pi) (a + 0.044715 a^3), written into h and out."""
    np.multiply(a, a, out=h)
    h *= _GELU_C * _SQRT_2_OVER_PI
    h += _SQRT_2_OVER_PI
    h *= a  # u
    np.tanh(h, out=h)
    h += 1
    h *= 0.5
    np.multiply(a, h, out=out)


def _gelu_tanh_grad(a, h, grad, out) -> None:
    """out = grad * d GELU / da, from the h that forward kept.

    d/da = h + a dh/da and dh/da = 0.5 (1 - t^2) u' = 2 h (1 - h) u', so d/da = h (1 + (1 - h) p)
    with p = 2 a u' = a (2 sqrt(2/pi) + 6 * 0.044715 sqrt(2/pi) a^2).
    """
    np.multiply(a, a, out=out)
    out *= 6 * _GELU_C * _SQRT_2_OVER_PI
    out += 2 * _SQRT_2_OVER_PI
    out *= a
    out *= 1 - h
    out += 1
    out *= h
    out *= grad


class Clip(Function):
    """Clamp to [lo, hi]; the gradient passes only where the value was inside the range."""

    def forward(self, a, lo=None, hi=None):
        out = np.clip(a, lo, hi)
        self.inside = out == a
        return out

    def backward(self, grad):
        return grad * self.inside


class Cast(Function):
    promotes = False  # the dtype asked for is the dtype given, float64 included

    def forward(self, a, dtype=None):
        self.dtype = a.dtype
        return a.astype(dtype)

    def backward(self, grad):
        return grad.astype(self.dtype)


def apply_binary(op, a, b):
    """Apply a broadcasting op to two Tensors; shapes that do not broadcast are an error naming the op and both shapes."""
    try:
        return op.apply(a, b)
    except ValueError:
        if a.ndim and b.ndim and len({a.shape, b.shape}) == 2:
            try:
                np.broadcast_shapes(a.shape, b.shape)
            except ValueError:
                name = "pow" if op is PowTensor else op.__name__.lower()
                raise ValueError(f"{name}: shapes {a.shape} and {b.shape} do not broadcast") from None
        raise
