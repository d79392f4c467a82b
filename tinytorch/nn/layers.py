"""Modules: containers of parameters and sub-modules, plus Linear, Dropout, Sequential, ModuleList.

A `Parameter` or `Module` assigned as an attribute registers itself, so `parameters()`,
`named_parameters()` and `state_dict()` find it with a dotted name.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from typing import Iterator

import numpy as np

from ..core import functions as F
from ..core.random import get_rng
from ..core.tensor import Tensor
from ..core.validation import as_tensor, check_bool, check_float, check_int, describe
from ..runtime.threads import forward_threads, in_tinytorch_work


def layer_input(x, weight: Tensor, where: str) -> Tensor:
    """The input of a layer as a Tensor in its weights' dtype: one rule for every layer with weights.

    Integer or bool input is read in that dtype (TinyTorch stores data as float32). A float input of
    another precision is a TypeError naming both, as PyTorch's layers raise: tinytorch never changes
    a float's precision behind your back (convert with `x.float()`, `x.double()` or the layer's own).
    """
    x = as_tensor(x, name="input", where=where)
    if x.dtype is weight.dtype or x.dtype == weight.dtype:  # `is`: the per-call fast path
        return x
    if x.dtype.kind != "f":
        return x.astype(weight.dtype)
    raise TypeError(f"{where}: input dtype {x.dtype} does not match the layer's dtype {weight.dtype}; convert the "
                    f"input (x.float() or x.double()) or the layer's parameters so that both are the same")


class Parameter(Tensor):
    """A tensor that is a trainable weight of a module (requires_grad=True)."""

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"


class Module:
    """Base class of every layer and model."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def __call__(self, *args, **kwargs):
        if in_tinytorch_work():  # called by a module, or inside a Trainer step: the threads are chosen
            return self.forward(*args, **kwargs)
        with forward_threads(self, args[0] if args else None):  # the outermost call: BLAS threads for its size
            return self.forward(*args, **kwargs)

    # ----- traversal ---------------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        yield prefix, self
        for name, module in self._modules.items():
            yield from module.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator["Module"]:
        for _, module in self.named_modules():
            yield module

    def children(self) -> Iterator["Module"]:
        return iter(self._modules.values())

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) in registration order; a shared parameter appears once."""
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, param in module._parameters.items():
                if id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """Total number of scalar weights."""
        return int(sum(p.size for p in self.parameters()))

    # ----- modes and gradients -----------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        mode = check_bool(mode, "mode", f"{type(self).__name__}.train")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    # ----- state -------------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Dotted name -> a copy of the parameter's array."""
        return OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())

    def load_state_dict(self, state_dict, strict: bool = True) -> None:
        """Copy arrays into the parameters in place; every key and shape is checked before any write."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{where}: state_dict must be a mapping of names to arrays, got {describe(state_dict)}")
        strict = check_bool(strict, "strict", where)
        own = OrderedDict(self.named_parameters())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: missing keys {missing}, unexpected keys {unexpected}"
            )
        arrays = {}
        for name, value in state_dict.items():
            if name not in own:
                continue
            arr = np.asarray(value.data if isinstance(value, Tensor) else value)
            if arr.shape != own[name].shape:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: '{name}' has shape {arr.shape}, "
                    f"the model expects {own[name].shape}"
                )
            if arr.dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}.load_state_dict: '{name}' has dtype {arr.dtype}, expected floats")
            arrays[name] = arr
        self._load_checked(arrays)

    def _load_checked(self, arrays: dict) -> None:
        """Copy arrays whose names and shapes are checked into the parameters (trusted: no second check)."""
        own = dict(self.named_parameters())
        for name, arr in arrays.items():
            own[name].data[...] = arr  # in place: views held by an optimizer stay valid

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}("]
        for name, module in self._modules.items():
            lines.append("  " + f"({name}): {module!r}".replace("\n", "\n  "))
        lines.append(")")
        return "\n".join(lines) if self._modules else f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self) -> str:
        return ""


Layer = Module  # TinyTorch's name


class Linear(Module):
    """y = x @ W + b with W of shape (in_features, out_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features = check_int(in_features, "in_features", "Linear", minimum=1)
        self.out_features = check_int(out_features, "out_features", "Linear", minimum=1)
        check_bool(bias, "bias", "Linear")
        bound = 1.0 / math.sqrt(in_features)  # PyTorch's default uniform range
        rng = get_rng()
        self.weight = Parameter(rng.uniform(-bound, bound, (in_features, out_features)).astype(np.float32))
        self.bias = Parameter(rng.uniform(-bound, bound, out_features).astype(np.float32)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        x = layer_input(x, self.weight, "Linear")
        return F.linear(x, self.weight, self.bias)  # the op checks shapes

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Dropout(Module):
    """Zeroes values with probability p while training; the identity in eval mode."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = check_float(p, "p", "Dropout")
        if not 0.0 <= self.p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")

    def forward(self, x: Tensor, training: bool | None = None) -> Tensor:
        active = self.training if training is None else check_bool(training, "training", "Dropout")
        x = as_tensor(x, name="input", where="Dropout")
        if not active or self.p == 0.0:
            return x
        return F.dropout(x, self.p, get_rng())

    def extra_repr(self) -> str:
        return f"p={self.p}"


class ModuleList(Module):
    """A list of modules whose parameters are registered (named 0, 1, 2, ...)."""

    def __init__(self, modules=()):
        super().__init__()
        if isinstance(modules, Module) or not hasattr(modules, "__iter__"):
            raise TypeError(f"{type(self).__name__}: modules must be a list of Modules, got {describe(modules)}")
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> "ModuleList":
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: expected a Module, got {type(module).__name__}")
        setattr(self, str(len(self._modules)), module)
        return self

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class Sequential(ModuleList):
    """Applies its modules in order: Sequential(a, b, c)(x) == c(b(a(x)))."""

    def __init__(self, *modules: Module):
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        super().__init__(modules)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x
