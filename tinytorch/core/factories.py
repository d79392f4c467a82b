"""PyTorch's tensor factories (`tensor`, `zeros`, `randn`, `arange`, ...) for fingers trained on PyTorch.

Floats are float32 unless `dtype=` says otherwise, as in PyTorch; random factories draw from
tinytorch's one generator, so `tinytorch.manual_seed(s)` makes them repeatable.
"""

from __future__ import annotations

import numpy as np

from .random import get_rng
from .tensor import Tensor
from .validation import check_bool, check_dtype, check_float, check_int, describe

# PyTorch-style dtype names (`dtype=tinytorch.float32`); they are numpy's types.
float32, float64, int32, int64 = np.float32, np.float64, np.int32, np.int64


def _dtype(dtype, where: str, default=np.float32) -> np.dtype:
    """`dtype` as a numpy dtype (None gives `default`); anything numpy cannot read is a TypeError."""
    return check_dtype(default if dtype is None else dtype, "dtype", where)


def _shape(size: tuple, where: str) -> tuple:
    """`zeros(2, 3)`, `zeros((2, 3))` and `zeros([2, 3])` all mean the shape (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(check_int(n, f"size[{i}]", where, minimum=0) for i, n in enumerate(size))


def _new(data: np.ndarray, requires_grad, where: str) -> Tensor:
    return Tensor(data, requires_grad=check_bool(requires_grad, "requires_grad", where), dtype=data.dtype)


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new Tensor holding a copy of `data` (floats float32, integers int64, unless `dtype` says)."""
    data = data.data if isinstance(data, Tensor) else data
    dtype_asked = None if dtype is None else _dtype(dtype, "tensor")
    try:
        array = np.array(data, dtype=dtype_asked)
    except ValueError:  # ragged nested lists, or text asked to be numbers
        raise ValueError(f"tensor: data must be a rectangular array of numbers, got {describe(data)}") from None
    if dtype is None and array.dtype.kind == "f":
        array = array.astype(np.float32)
    return _new(array, requires_grad, "tensor")


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros; `zeros(2, 3)` or `zeros((2, 3))`."""
    return _new(np.zeros(_shape(size, "zeros"), _dtype(dtype, "zeros")), requires_grad, "zeros")


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones; `ones(2, 3)` or `ones((2, 3))`."""
    return _new(np.ones(_shape(size, "ones"), _dtype(dtype, "ones")), requires_grad, "ones")


def _fill_dtype(fill_value, dtype, where: str) -> np.dtype:
    """PyTorch's rule for `full`: the dtype follows the fill value (bool, int64, else float32)."""
    if dtype is not None:
        return _dtype(dtype, where)
    if isinstance(fill_value, (bool, np.bool_)):
        return np.dtype(bool)
    if isinstance(fill_value, (int, np.integer)):
        return np.dtype(np.int64)
    if not isinstance(fill_value, (float, np.floating)):
        raise TypeError(f"{where}: fill_value must be a number or a bool, got {describe(fill_value)}")
    return np.dtype(np.float32)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of `size` filled with `fill_value`."""
    shape = _shape(size if isinstance(size, (tuple, list)) else (size,), "full")
    return _new(np.full(shape, fill_value, _fill_dtype(fill_value, dtype, "full")), requires_grad, "full")


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Values from `start` up to (not including) `end` by `step`; int64 when all three are ints, else float32."""
    start, end = (0, start) if end is None else (start, end)
    bounds = {"start": start, "end": end, "step": step}
    for name, value in bounds.items():
        check_float(value, name, "arange")
    if step == 0:
        raise ValueError(f"arange: step must be non-zero, got {step!r}")
    all_ints = all(isinstance(v, (int, np.integer)) for v in bounds.values())
    dtype = _dtype(dtype, "arange", default=np.int64 if all_ints else np.float32)
    try:
        values = np.arange(start, end, step)
    except (ValueError, MemoryError):  # more values than an array can hold
        raise ValueError(f"arange: start {start}, end {end} and step {step} give too many values to hold") from None
    return _new(values.astype(dtype), requires_grad, "arange")


def _float_dtype(dtype, where: str) -> np.dtype:
    dtype = _dtype(dtype, where)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{where}: dtype must be float32 or float64 for random values, got {dtype}")
    return dtype


def randn(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from tinytorch's seeded generator; `randn(2, 3)` or `randn((2, 3))`."""
    shape, dtype = _shape(size, "randn"), _float_dtype(dtype, "randn")
    return _new(get_rng().standard_normal(shape, dtype=dtype), requires_grad, "randn")


def rand(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from tinytorch's seeded generator; `rand(2, 3)` or `rand((2, 3))`."""
    shape, dtype = _shape(size, "rand"), _float_dtype(dtype, "rand")
    return _new(get_rng().random(shape, dtype=dtype), requires_grad, "rand")


def _like(other, where: str) -> np.ndarray:
    if isinstance(other, Tensor):
        return other.data
    if isinstance(other, np.ndarray):
        return other
    raise TypeError(f"{where}: expected a Tensor or an ndarray, got {describe(other)}")


def zeros_like(other, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros of `other`'s shape and (unless `dtype` says) dtype."""
    like = _like(other, "zeros_like")
    return zeros(like.shape, dtype=like.dtype if dtype is None else dtype, requires_grad=requires_grad)


def ones_like(other, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones of `other`'s shape and (unless `dtype` says) dtype."""
    like = _like(other, "ones_like")
    return ones(like.shape, dtype=like.dtype if dtype is None else dtype, requires_grad=requires_grad)


def randn_like(other, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples of `other`'s shape and (unless `dtype` says) float dtype."""
    like = _like(other, "randn_like")
    return randn(like.shape, dtype=like.dtype if dtype is None else dtype, requires_grad=requires_grad)


__all__ = ["tensor", "zeros", "ones", "full", "arange", "randn", "rand", "zeros_like", "ones_like", "randn_like",
           "float32", "float64", "int32", "int64"]
