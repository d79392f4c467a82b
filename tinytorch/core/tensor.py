"""The Tensor: an ndarray plus the link to the op that made it, so gradients can flow back.

Float data is float32 unless a dtype is asked for; integer data (token ids) stays integer.
`.grad` is a plain ndarray (TinyTorch's convention), or None.
"""

from __future__ import annotations

from itertools import count

import numpy as np

from .validation import as_tensor, check_axis, check_bool, check_dtype, describe

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

    @classmethod
    def _from_op(cls, data: np.ndarray, requires_grad: bool) -> "Tensor":
        """Fast constructor for op outputs: no conversion, no checks."""
        out = cls.__new__(cls)
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
        return F.cast(self, dtype)

    def float(self) -> "Tensor":
        return self.astype(np.float32)

    def double(self) -> "Tensor":
        return self.astype(np.float64)

    # ----- autograd ------------------------------------------------------------------------------
    def backward(self, gradient=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`; a non-scalar needs `gradient`."""
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
        autograd.run_backward(self, grad)

    # ----- arithmetic ----------------------------------------------------------------------------
    def _lift(self, other) -> "Tensor":
        return as_tensor(other, like=self)

    def __add__(self, other):
        return F.add(self, self._lift(other))

    def __radd__(self, other):
        return F.add(self._lift(other), self)

    def __sub__(self, other):
        return F.sub(self, self._lift(other))

    def __rsub__(self, other):
        return F.sub(self._lift(other), self)

    def __mul__(self, other):
        return F.mul(self, self._lift(other))

    def __rmul__(self, other):
        return F.mul(self._lift(other), self)

    def __truediv__(self, other):
        return F.div(self, self._lift(other))

    def __rtruediv__(self, other):
        return F.div(self._lift(other), self)

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor) or np.ndim(exponent) > 0:
            return F.pow_tensor(self, self._lift(exponent))
        return F.power(self, exponent=exponent)  # checked there: a real number

    def __rpow__(self, base):
        return F.pow_tensor(self._lift(base), self)

    def __neg__(self):
        return F.neg(self)

    def __matmul__(self, other):
        return F.matmul(self, self._lift(other))

    def __rmatmul__(self, other):
        return F.matmul(self._lift(other), self)

    def matmul(self, other):
        return F.matmul(self, self._lift(other))

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
        return F.reshape(self, shape)

    def view(self, *shape):
        return self.reshape(*shape)

    def flatten(self, start_dim: int = 0):
        start_dim = check_axis(start_dim, max(self.ndim, 1), "flatten", "start_dim")
        return self.reshape(self.shape[:start_dim] + (-1,))

    def transpose(self, dim0: int = -2, dim1: int = -1):
        return F.transpose(self, dim0, dim1)

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return F.permute(self, dims)

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
        return F.getitem(self, index)

    # ----- reductions (numpy's axis/keepdims, or PyTorch's dim/keepdim) ---------------------------
    def sum(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        return F.sum(self, *resolve_axis("sum", axis, keepdims, dim, keepdim))

    def mean(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        return F.mean(self, *resolve_axis("mean", axis, keepdims, dim, keepdim))

    def max(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """The maximum over `axis` (a Tensor); with PyTorch's `dim=`, `(values, indices)` as torch returns."""
        axis, keepdims = resolve_axis("max", axis, keepdims, dim, keepdim)
        if dim is not None:
            return F.extreme_with_indices(self, axis, keepdims, largest=True)
        return F.max(self, axis, keepdims)

    def min(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """The minimum over `axis` (a Tensor); with PyTorch's `dim=`, `(values, indices)` as torch returns."""
        axis, keepdims = resolve_axis("min", axis, keepdims, dim, keepdim)
        if dim is not None:
            return F.extreme_with_indices(self, axis, keepdims, largest=False)
        return -F.max(-self, axis, keepdims)

    def var(self, axis=None, keepdims: bool = False, ddof: int = 0, *, dim=None, keepdim=None, correction=None):
        """Variance; `ddof=0` by default as in numpy (torch's `correction=` sets it)."""
        if correction is not None:
            if ddof:
                raise TypeError(f"var: give ddof= or correction=, not both (got ddof={ddof!r}, "
                                f"correction={correction!r})")
            ddof = correction
        return F.var(self, *resolve_axis("var", axis, keepdims, dim, keepdim), ddof)

    def std(self, axis=None, keepdims: bool = False, ddof: int = 0, *, dim=None, keepdim=None, correction=None):
        """Standard deviation: the square root of `var` with the same arguments."""
        return self.var(axis, keepdims, ddof, dim=dim, keepdim=keepdim, correction=correction).sqrt()

    def argmax(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """int64 indices of the largest entries (first on ties), into the flattened tensor when no axis is given."""
        return F.arg_extreme(self, *resolve_axis("argmax", axis, keepdims, dim, keepdim), largest=True)

    def argmin(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """int64 indices of the smallest entries (first on ties), into the flattened tensor when no axis is given."""
        return F.arg_extreme(self, *resolve_axis("argmin", axis, keepdims, dim, keepdim), largest=False)

    # ----- elementwise functions -----------------------------------------------------------------
    def exp(self):
        return F.exp(self)

    def log(self):
        return F.log(self)

    def sqrt(self):
        return F.sqrt(self)

    def abs(self):
        return F.abs(self)

    def tanh(self):
        return F.tanh(self)

    def sigmoid(self):
        return F.sigmoid(self)

    def relu(self):
        return F.relu(self)

    def gelu(self, approximate: str = "tanh"):
        return F.gelu(self, approximate)

    def softmax(self, dim: int = -1):
        return F.softmax(self, dim)

    def log_softmax(self, dim: int = -1):
        return F.log_softmax(self, dim)

    def clip(self, min_value=None, max_value=None):
        return F.clip(self, min_value, max_value)

    # ----- PyTorch spellings of what is above ------------------------------------------------------
    def clamp(self, min=None, max=None):  # noqa: A002 - torch's argument names
        """torch.clamp: `clip` with PyTorch's argument names; gradient 1 inside [min, max], 0 outside."""
        return F.clip(self, min, max)

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
        return F.masked_fill(self, mask, value)


from . import autograd  # noqa: E402  (autograd and the ops need Tensor defined first)
from . import functions as F  # noqa: E402
from .functions.reduce import resolve_axis  # noqa: E402
