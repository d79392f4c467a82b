"""Activation modules: ReLU, GELU (tanh or exact form), Sigmoid, Tanh, Softmax."""

from __future__ import annotations

from ..core import functions as F
from ..core.ops.elementwise import GELU as _GELUOp
from .layers import Module
from ..core.validation import as_tensor, check_choice, check_int


class ReLU(Module):
    """max(0, x)."""

    def forward(self, x):
        return F.relu(as_tensor(x, name="input", where="ReLU"))


class GELU(Module):
    """x * Phi(x). `approximate="tanh"` (default, GPT-2's form) or `"none"` (exact, with erf)."""

    def __init__(self, approximate: str = "tanh"):
        super().__init__()
        self.approximate = check_choice(approximate, ("tanh", "none"), "approximate", "GELU")

    def forward(self, x):
        # the op itself: `approximate` was checked in __init__ (F.gelu would check it again every call)
        return _GELUOp.apply(as_tensor(x, name="input", where="GELU"), approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """1 / (1 + e^-x), computed without overflow."""

    def forward(self, x):
        return F.sigmoid(as_tensor(x, name="input", where="Sigmoid"))


class Tanh(Module):
    def forward(self, x):
        return F.tanh(as_tensor(x, name="input", where="Tanh"))


class Softmax(Module):
    """Softmax along `dim` (default the last axis)."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = check_int(dim, "dim", "Softmax")

    def forward(self, x, dim: int | None = None):
        return F.softmax(as_tensor(x, name="input", where="Softmax"), self.dim if dim is None else dim)
