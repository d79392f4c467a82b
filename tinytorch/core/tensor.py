"""The Tensor: an ndarray plus the link to the op that made it, so gradients can flow back.

Float data is float32 unless a dtype is asked for; integer data (token ids) stays integer.
`.grad` is a plain ndarray (TinyTorch's convention), or None.
"""

from __future__ import annotations

from itertools import count

import numpy as np

from ..runtime.threads import backward_threads
from .autograd import run_backward
from .checks import check_axis, check_bool, check_broadcast, check_choice, check_dtype, check_float, check_mask, describe
from .ops import elementwise as _ew
from .ops import matmul as _mm
from .ops import nn as _nn
from .ops import reduce as _red
from .ops import select as _sel
from .ops import shape as _shp
from .ops.elementwise import apply_binary
from .ops.reduce import extreme_indices, resolve_axis

_creation_counter = count(1)  # creation order: an op's output is always numbered after its inputs


def _to_array(data, dtype=None) -> np.ndarray:
    """Data as an ndarray: floats become float32 unless `dtype` says otherwise; integers stay."""
    if isinstance(data, Tensor):
        data = data.data
    dtype = None if dtype is None else check_dtype(dtype, "dtype", "Tensor")
    try:
        arr = np.asarray(data, dtype=dtype)
    except ValueError:  # ragged nested lists, or strings asked to be numbers
        raise ValueError(f"Tensor: data must be a rectangular array of numbers, got {describe(data)}") from None
    if dtype is None and arr.dtype.kind == "f" and arr.dtype != np.float32:
        arr = arr.astype(np.float32)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"Tensor: cannot hold data of dtype {arr.dtype} (got {describe(data)})")
    return arr


class Tensor:
    """An n-dimensional array that records the operations applied to it for `backward()`."""

    __array_ufunc__ = None  # make `ndarray + Tensor` defer to Tensor.__radd__
    __array_priority__ = 1000
    _seq = 0  # creation number (set per instance); the backward engine orders nodes by it

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        requires_grad = check_bool(requires_grad, "requires_grad", type(self).__name__)
        self.data = _to_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}: only floating-point tensors can require gradients, "
                            f"got {self.data.dtype}")
        self.requires_grad = requires_grad
        self.grad = None
        self._ctx = None
        self._retain_grad = False
        self._seq = next(_creation_counter)

    @staticmethod
    def _from_op(data: np.ndarray, requires_grad: bool) -> "Tensor":
        """Fast constructor for op outputs (always a plain Tensor, also when called on a Parameter): no checks."""
        out = Tensor.__new__(Tensor)
        out.data = data
        out.requires_grad = requires_grad
        out.grad = None
        out._ctx = None
        out._retain_grad = False
        out._seq = next(_creation_counter)
        return out

    # ----- array facts -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def T(self) -> "Tensor":
        return self.transpose(-2, -1)

    def __len__(self) -> int:
        return len(self.data)

    def item(self):
        return self.data.item()

    def numpy(self) -> np.ndarray:
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, precision=4, threshold=20)}{grad})"

    __hash__ = object.__hash__

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def _grad_fn(self):
        """TinyTorch's name for the op that made this tensor (None on a leaf); the engine calls it `_ctx`."""
        return self._ctx

    def detach(self) -> "Tensor":
        """The same data, cut from the graph."""
        return Tensor._from_op(self.data, False)

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep theirs)."""
        self._retain_grad = True

    def zero_grad(self) -> None:
        self.grad = None

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        self.requires_grad = check_bool(flag, "requires_grad", "Tensor.requires_grad_")
        return self

    def astype(self, dtype) -> "Tensor":
        return _ew.Cast.apply(self, dtype=check_dtype(dtype, "dtype", "astype"))

    def float(self) -> "Tensor":
        return self.astype(np.float32)

    def double(self) -> "Tensor":
        return self.astype(np.float64)

    # ----- autograd ------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph: bool | None = None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`; a non-scalar needs `gradient`.

        The graph is freed as backward goes (a second backward raises) unless `retain_graph=True`.
        """
        retain_graph = False if retain_graph is None else check_bool(retain_graph, "retain_graph", "backward")
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no graph")
        if gradient is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward: a gradient is needed for a non-scalar output of shape {self.shape}"
                )
            grad = np.ones_like(self.data)
        else:
            grad = as_tensor(gradient, name="gradient", where="backward").data.astype(self.dtype, copy=False)
            if grad.shape != self.shape:
                raise ValueError(f"backward: gradient shape {grad.shape} does not match tensor shape {self.shape}")
        with backward_threads():  # BLAS threads as tinytorch chooses them for this much work (runtime/threads.py)
            run_backward(self, grad, retain_graph)

    # ----- arithmetic ----------------------------------------------------------------------------
    def _lift(self, other) -> "Tensor":
        return as_tensor(other, like=self)

    def __add__(self, other):
        return apply_binary(_ew.Add, self, self._lift(other))

    def __radd__(self, other):
        return apply_binary(_ew.Add, self._lift(other), self)

    def __sub__(self, other):
        return apply_binary(_ew.Sub, self, self._lift(other))

    def __rsub__(self, other):
        return apply_binary(_ew.Sub, self._lift(other), self)

    def __mul__(self, other):
        return apply_binary(_ew.Mul, self, self._lift(other))

    def __rmul__(self, other):
        return apply_binary(_ew.Mul, self._lift(other), self)

    def __truediv__(self, other):
        return apply_binary(_ew.Div, self, self._lift(other))

    def __rtruediv__(self, other):
        return apply_binary(_ew.Div, self._lift(other), self)

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor) or np.ndim(exponent) > 0:
            return apply_binary(_ew.PowTensor, self, self._lift(exponent))
        return _ew.Power.apply(self, exponent=check_float(exponent, "exponent", "pow", finite=False))

    def __rpow__(self, base):
        return apply_binary(_ew.PowTensor, self._lift(base), self)

    def __neg__(self):
        return _ew.Neg.apply(self)

    def __matmul__(self, other):
        return _mm.MatMul.apply(self, self._lift(other))

    def __rmatmul__(self, other):
        return _mm.MatMul.apply(self._lift(other), self)

    def matmul(self, other):
        return _mm.MatMul.apply(self, self._lift(other))

    # ----- comparisons (no gradient) -------------------------------------------------------------
    def _compare(self, other, op) -> "Tensor":
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._from_op(op(self.data, other), False)

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    # ----- shape ---------------------------------------------------------------------------------
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _shp.Reshape.apply(self, shape=tuple(shape))

    def view(self, *shape):
        return self.reshape(*shape)

    def flatten(self, start_dim: int = 0):
        start_dim = check_axis(start_dim, max(self.ndim, 1), "flatten", "start_dim")
        return self.reshape(self.shape[:start_dim] + (-1,))

    def transpose(self, dim0: int = -2, dim1: int = -1):
        return _shp.Transpose.apply(self, dim0=dim0, dim1=dim1)

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return _shp.Permute.apply(self, dims=tuple(dims))

    def unsqueeze(self, dim: int):
        dim = check_axis(dim, self.ndim + 1, "unsqueeze", "dim")  # (..., 1 at dim, ...)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape(tuple(s for s in self.shape if s != 1))
        dim = check_axis(dim, self.ndim, "squeeze", "dim")
        if self.shape[dim] != 1:
            return self
        shape = list(self.shape)
        del shape[dim]
        return self.reshape(tuple(shape))

    def __getitem__(self, index):
        try:
            return _shp.GetItem.apply(self, index=_plain_index(index))
        except IndexError as error:  # numpy's message is clear; say which tensor it was about
            raise IndexError(f"index: {error} (tensor of shape {self.shape})") from None

    # ----- reductions (numpy's axis/keepdims, or PyTorch's dim/keepdim) ---------------------------
    def sum(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        axis, keepdims = resolve_axis("sum", axis, keepdims, dim, keepdim)
        return _red.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        axis, keepdims = resolve_axis("mean", axis, keepdims, dim, keepdim)
        return _red.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """The maximum over `axis` (a Tensor); with PyTorch's `dim=`, `(values, indices)` as torch returns."""
        axis, keepdims = resolve_axis("max", axis, keepdims, dim, keepdim)
        if dim is not None:
            return self._extreme_with_indices(axis, keepdims, largest=True)
        return _red.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """The minimum over `axis` (a Tensor); with PyTorch's `dim=`, `(values, indices)` as torch returns."""
        axis, keepdims = resolve_axis("min", axis, keepdims, dim, keepdim)
        if dim is not None:
            return self._extreme_with_indices(axis, keepdims, largest=False)
        return -_red.Max.apply(-self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims: bool = False, ddof: int = 0, *, dim=None, keepdim=None, correction=None):
        """Variance; `ddof=0` by default as in numpy (torch's `correction=` sets it)."""
        if correction is not None:
            if ddof:
                raise TypeError(f"var: give ddof= or correction=, not both (got ddof={ddof!r}, "
                                f"correction={correction!r})")
            ddof = correction
        axis, keepdims = resolve_axis("var", axis, keepdims, dim, keepdim)
        return _red.Var.apply(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def std(self, axis=None, keepdims: bool = False, ddof: int = 0, *, dim=None, keepdim=None, correction=None):
        """Standard deviation: the square root of `var` with the same arguments."""
        return self.var(axis, keepdims, ddof, dim=dim, keepdim=keepdim, correction=correction).sqrt()

    def argmax(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """int64 indices of the largest entries (first on ties), into the flattened tensor when no axis is given."""
        axis, keepdims = resolve_axis("argmax", axis, keepdims, dim, keepdim)
        return Tensor._from_op(extreme_indices(self.data, axis, keepdims, True, "argmax", "axis"), False)

    def argmin(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """int64 indices of the smallest entries (first on ties), into the flattened tensor when no axis is given."""
        axis, keepdims = resolve_axis("argmin", axis, keepdims, dim, keepdim)
        return Tensor._from_op(extreme_indices(self.data, axis, keepdims, False, "argmin", "axis"), False)

    def _extreme_with_indices(self, dim: int, keepdim: bool, largest: bool):
        """torch.max/min(x, dim): values and int64 indices along `dim` (first on ties); gradient to those entries."""
        where = "max" if largest else "min"
        index = extreme_indices(self.data, dim, True, largest, where, "dim")  # (..., 1, ...)
        axis = check_axis(dim, self.ndim, where, "dim")
        values = _sel.TakeAlong.apply(self, indices=index, axis=axis)
        if not keepdim:
            index = np.squeeze(index, axis)
            values = values.reshape(index.shape)
        return _red.ValuesIndices(values, Tensor._from_op(index, False))

    # ----- elementwise functions -----------------------------------------------------------------
    def exp(self):
        return _ew.Exp.apply(self)

    def log(self):
        return _ew.Log.apply(self)

    def sqrt(self):
        return _ew.Sqrt.apply(self)

    def abs(self):
        return _ew.Abs.apply(self)

    def tanh(self):
        return _ew.Tanh.apply(self)

    def sigmoid(self):
        return _ew.Sigmoid.apply(self)

    def relu(self):
        return _ew.ReLU.apply(self)

    def gelu(self, approximate: str = "tanh"):
        return _ew.GELU.apply(self, approximate=check_choice(approximate, ("tanh", "none"), "approximate", "gelu"))

    def softmax(self, dim: int = -1):
        return _nn.Softmax.apply(self, dim=check_axis(dim, self.ndim, "softmax", "dim"))

    def log_softmax(self, dim: int = -1):
        return _nn.LogSoftmax.apply(self, dim=check_axis(dim, self.ndim, "log_softmax", "dim"))

    def clip(self, min_value=None, max_value=None):
        return _clip(self, min_value, max_value)

    # ----- PyTorch spellings of what is above ------------------------------------------------------
    def clamp(self, min=None, max=None):  # noqa: A002 - torch's argument names
        """torch.clamp: `clip` with PyTorch's argument names; gradient 1 inside [min, max], 0 outside."""
        return _clip(self, min, max)

    def pow(self, exponent):
        return self ** exponent

    def t(self) -> "Tensor":
        """torch's t(): a 2-D tensor transposed; 0-D and 1-D tensors come back unchanged."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor of at most 2 dimensions, got shape {self.shape}; "
                             f"use transpose(dim0, dim1) or permute")
        return self if self.ndim < 2 else self.transpose(0, 1)

    def dim(self) -> int:
        """torch's dim(): the number of dimensions (`ndim`)."""
        return self.data.ndim

    def numel(self) -> int:
        """torch's numel(): the number of elements (what `size` is in TinyTorch)."""
        return self.data.size

    def masked_fill(self, mask, value):
        mask = check_mask(mask, "masked_fill")
        check_broadcast("masked_fill", {"mask": mask.shape, "tensor": self.shape}, target=self.shape)
        return _sel.MaskedFill.apply(self, mask=mask, value=value)


def _clip(a: Tensor, min_value, max_value) -> Tensor:
    """clip/clamp: gradient 1 inside [min, max], 0 outside; either bound may be None."""
    lo = None if min_value is None else check_float(min_value, "min", "clip", finite=False)
    hi = None if max_value is None else check_float(max_value, "max", "clip", finite=False)
    return _ew.Clip.apply(a, lo=lo, hi=hi)


def _plain_index(index):
    """An index with its Tensors replaced by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def as_tensor(x, like=None, name: str | None = None, where: str | None = None):
    """`x` itself if it is a Tensor, else a new Tensor holding it: the one coercion helper.

    With a floating `like` tensor, numbers take its dtype, so `float32_tensor * 2.0` stays float32.
    With `name` and `where`, data that is not numbers is an error naming them.
    """
    if isinstance(x, Tensor):
        return x
    if like is not None and (type(x) is float or type(x) is int) and like.dtype.kind == "f":
        return Tensor._from_op(np.asarray(x, dtype=like.dtype), False)  # `tensor * 2.0`: the hot path
    if like is not None and type(x) is int and like.dtype.kind in "iu":
        return Tensor._from_op(np.asarray(x, dtype=like.dtype), False)  # int32 ids * 2 stay int32, as in torch
    try:
        if like is not None and like.dtype.kind == "f":
            arr = np.asarray(x)
            if arr.dtype.kind in "fiub":
                return Tensor(arr, dtype=like.dtype)
        return Tensor(x)  # floats become float32; strings and objects are a TypeError
    except (TypeError, ValueError) as error:
        if where is None:
            raise
        raise type(error)(f"{where}: {name} must be a Tensor or an array of numbers, got {describe(x)}") from None


