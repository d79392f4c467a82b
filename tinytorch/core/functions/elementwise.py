"""The older path `tinytorch.core.functions.elementwise`: the code lives in `tinytorch.core.ops.elementwise`."""

from ..ops.elementwise import (  # noqa: F401
    Abs, Add, Cast, Clip, Div, Exp, GELU, Log, Mul, Neg, PowTensor, Power, ReLU, Sigmoid, Sqrt, Sub,
    Tanh, stable_sigmoid,
)
