"""Argument checks for plain values: one helper per kind of value, one message style.

Each helper takes `(value, name, where)` and raises TypeError (wrong kind) or ValueError (right kind,
bad value) whose message names the function, the argument and the value, e.g.
"Linear: in_features must be a positive int, got -1". They know nothing of tensors, so the engine's
lowest modules can use them; `validation` adds the checks that take tensors.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def describe(value, limit: int = 60) -> str:
    """A short, bounded rendering of a bad value for an error message: its repr and its type."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{text} ({type(value).__name__})"


def _is_int(value) -> bool:
    if type(value) is int:  # the common case first: these checks run on every reshape and reduction
        return True
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    if type(value) is float or type(value) is int:
        return True
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_int(value, name: str, where: str, minimum: int | None = None) -> int:
    """`value` as a Python int (bool and floats rejected), at least `minimum` when given."""
    is_int = _is_int(value)
    if is_int and (minimum is None or value >= minimum):
        return int(value)
    kind = {None: "an int", 0: "a non-negative int", 1: "a positive int"}.get(minimum, f"an int >= {minimum}")
    if not is_int:
        raise TypeError(f"{where}: {name} must be {kind}, got {describe(value)}")
    raise ValueError(f"{where}: {name} must be {kind}, got {value}")


def check_float(value, name: str, where: str, minimum: float | None = None, maximum: float | None = None,
                finite: bool = True, min_inclusive: bool = True) -> float:
    """`value` as a Python float (ints accepted; bool, str and NaN rejected) within the given bounds."""
    if not _is_real(value):
        raise TypeError(f"{where}: {name} must be a real number, got {describe(value)}")
    number = float(value)
    if math.isnan(number) or (finite and math.isinf(number)):
        raise ValueError(f"{where}: {name} must be a finite number, got {number}")
    if minimum is not None and (number < minimum or (not min_inclusive and number == minimum)):
        bound = ">=" if min_inclusive else ">"
        raise ValueError(f"{where}: {name} must be {bound} {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise ValueError(f"{where}: {name} must be <= {maximum}, got {number}")
    return number


def check_bool(value, name: str, where: str) -> bool:
    """`value` as a Python bool; strings like "no" and numbers are rejected, not guessed."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: {name} must be a bool, got {describe(value)}")
    return bool(value)


def check_texts(texts, name: str, where: str) -> list[str]:
    """A str or an iterable of str (a corpus) as a list of str; anything else is a TypeError."""
    if isinstance(texts, str):
        return [texts]
    if not hasattr(texts, "__iter__") or isinstance(texts, bytes):
        raise TypeError(f"{where}: {name} must be a str or a list of str, got {describe(texts)}")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{where}: {name} item {i} must be a str, got {describe(text)}")
    return texts


def check_dtype(dtype, name: str, where: str) -> np.dtype:
    """`dtype` as a numpy dtype (np.float32, "float64", ...); anything numpy cannot read is a TypeError."""
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: {name} must be a numpy dtype or its name, got {describe(dtype)}") from None


def check_choice(value, choices: tuple, name: str, where: str):
    """One of a few allowed values (strings or None), compared without numpy's elementwise `==`."""
    if not any(value is c or (isinstance(value, str) and value == c) for c in choices):
        listed = ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}"
        raise ValueError(f"{where}: {name} must be {listed}, got {describe(value)}")
    return value


def check_axis(axis, ndim: int, where: str, name: str = "axis"):
    """An axis (int) or axes (tuple/list of ints) checked against `ndim` and made non-negative.

    Floats, bools, None and repeated axes are rejected (callers that mean "all axes" by None say so).
    """
    if isinstance(axis, (tuple, list)):
        axes = tuple(check_axis(a, ndim, where, name) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"{where}: {name} {tuple(axis)} repeats an axis")
        return axes
    if not _is_int(axis):
        raise TypeError(f"{where}: {name} must be an int or a tuple of ints, got {describe(axis)}")
    if not -ndim <= axis < ndim:
        raise IndexError(f"{where}: {name} {axis} is out of range for a {ndim}-d tensor "
                         f"(expected [{-ndim}, {ndim - 1}])")
    return int(axis) % ndim


def format_id(value) -> str:
    """An id for a message: whole numbers without '.0', huge floats as floats (never wrapped to int64)."""
    number = float(value)
    if math.isfinite(number) and number.is_integer() and abs(number) < 2.0 ** 53:
        return str(int(number))
    return repr(number) if isinstance(value, (float, np.floating)) else str(value)


def _as_array(value, refusal: str) -> np.ndarray:
    """The ndarray behind a Tensor (through its `__array__`), ndarray, list or scalar; text or ragged lists raise `refusal`."""
    if isinstance(value, np.ndarray):
        return value
    if not isinstance(value, (str, bytes)):
        try:
            return np.asarray(value)
        except ValueError:  # ragged nested lists
            pass
    raise TypeError(f"{refusal}, got {describe(value)}")


def as_token_ids(ids, vocab_size: int | None, where: str, name: str = "token id") -> np.ndarray:
    """Token ids of any shape as an int64 ndarray: THE id validator of the package.

    Accepts ints and whole-number floats (TinyTorch stores floats); rejects bool, str, fractions,
    NaN/inf, and, with `vocab_size`, ids outside [0, vocab_size), naming the first bad one.
    """
    arr = _as_array(ids, f"{where}: expected {name}s (a rectangular array of ints)")
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.floor(arr))
        if bad.any():
            raise ValueError(f"{where}: {name} {format_id(arr[bad].flat[0])} is not a whole number")
    elif arr.dtype.kind not in "iu":
        raise TypeError(f"{where}: {name}s must be integers, got dtype {arr.dtype}")
    if vocab_size is not None and arr.size:
        outside = (arr < 0) | (arr >= vocab_size)  # compared before the cast: 1e20 stays 1e20
        if outside.any():
            raise ValueError(f"{where}: {name} {format_id(arr[outside].flat[0])} is outside "
                             f"the vocabulary [0, {vocab_size})")
    elif arr.dtype.kind == "f" and arr.size and np.abs(arr).max() >= 2.0 ** 63:
        raise ValueError(f"{where}: {name} {format_id(arr[np.abs(arr) >= 2.0 ** 63].flat[0])} is too large")
    return arr.astype(np.int64, copy=False)


def check_mask(mask, where: str, name: str = "mask") -> np.ndarray:
    """A mask as a bool ndarray (True = allowed); only booleans or numbers equal to 0 or 1 pass."""
    arr = _as_array(mask, f"{where}: {name} must be boolean or 0/1")
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{where}: {name} must be boolean or 0/1, got dtype {arr.dtype}")
    bad = (arr != 0) & (arr != 1)  # NaN is != both, so it is caught here too
    if bad.any():
        raise ValueError(f"{where}: {name} must hold only booleans or 0/1, got {arr[bad].flat[0]}")
    return arr.astype(bool)


def check_broadcast(where: str, shapes: dict, target: tuple | None = None) -> None:
    """The named shapes broadcast together (to exactly `target` when given), or an error names them all."""
    try:
        shape = np.broadcast_shapes(*shapes.values())
    except ValueError:
        shape = None
    if shape is None or (target is not None and shape != target):
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(f"{where}: shapes {listed} do not broadcast" + (f" to {target}" if target else ""))
