"""Optimizers: SGD (momentum, weight decay), Adam, and AdamW (decoupled weight decay).

For speed the parameters are re-seated as views into one flat buffer, so a step is a handful
of vectorised numpy calls over all weights at once instead of a Python loop per parameter.
"""

from __future__ import annotations

import math

import numpy as np

from .tensor import Tensor


class FlatParameters:
    """Keeps every parameter's `.data` as a view into one contiguous buffer (same dtype only).

    Gradients get the same layout: backward stores a parameter's first gradient straight into its
    slot of a flat gradient buffer (`store`), so clipping, finiteness checks and the update each
    run as one numpy call over all weights, with no gathering. A slot is written once per buffer;
    the next backward starts a fresh buffer, so a `.grad` array a user kept is never overwritten.
    """

    def __init__(self, params: list):
        self.params = params
        self.sizes = [p.data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int)
        self.index = {id(p): i for i, p in enumerate(params)}
        self._bounds = [(int(lo), int(hi)) for lo, hi in zip(self.offsets[:-1], self.offsets[1:])]
        self.flat = None
        self.grad = None
        self._grad_views: list = []
        if len({p.data.dtype for p in params}) == 1:
            self._seat()

    def _seat(self) -> None:
        self.flat = np.concatenate([p.data.ravel() for p in self.params])
        self.grad = None
        for p, lo, hi in zip(self.params, self.offsets[:-1], self.offsets[1:]):
            p.data = self.flat[lo:hi].reshape(p.data.shape)
            p._grad_home = self

    def ready(self) -> bool:
        """True when the fast path applies: all views intact (a user may have replaced `.data`)."""
        if self.flat is None:
            return False
        if any(p.data.base is not self.flat for p in self.params):
            if len({p.data.dtype for p in self.params}) != 1:
                self.flat = self.grad = None
                return False
            self._seat()
        return True

    def store(self, param, grad: np.ndarray) -> np.ndarray | None:
        """Copy a parameter's first gradient of a backward into its slot; None where no slot fits."""
        i = self.index.get(id(param))
        data = param.data
        if i is None or self.flat is None or grad.shape != data.shape or data.dtype != self.flat.dtype:
            return None
        views = self._grad_views
        if self.grad is None or views[i] is not None:  # slot taken: an earlier backward's
            self.grad = np.empty_like(self.flat)
            self._grad_views = views = [None] * len(self.params)
        lo, hi = self._bounds[i]
        view = views[i] = self.grad[lo:hi].reshape(data.shape)
        np.copyto(view, grad)
        return view

    def flat_grad(self) -> np.ndarray | None:
        """The flat gradient buffer when every parameter's `.grad` is still its slot there, else None."""
        if self.grad is None:
            return None
        for p, view in zip(self.params, self._grad_views):
            if p.grad is not view or view is None:
                return None
        return self.grad

    def gather_grads(self) -> np.ndarray:
        flat = self.flat_grad()
        if flat is not None:
            return flat
        out = np.empty_like(self.flat)
        np.concatenate([p.grad.ravel() for p in self.params], out=out)
        return out

    def slices(self, flat: np.ndarray) -> list:
        """Per-parameter views of a flat state array."""
        return [flat[lo:hi].reshape(p.shape) for p, lo, hi in zip(self.params, self.offsets[:-1], self.offsets[1:])]


class Optimizer:
    """Base class: holds the parameters, the step count and per-parameter state arrays."""

    state_names: tuple = ()

    def __init__(self, params, lr: float):
        params = list(params.parameters() if hasattr(params, "parameters") else params)
        unique = list({id(p): p for p in params}.values())
        if not unique:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for p in unique:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{type(self).__name__}: every parameter must be a Tensor with requires_grad=True")
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: learning rate must be positive, got {lr}")
        self.params = unique
        self.lr = float(lr)
        self.step_count = 0
        self._flat = FlatParameters(unique)
        dtype = unique[0].data.dtype
        total = int(sum(p.data.size for p in unique))
        self._state = {name: np.zeros(total, dtype=dtype) for name in self.state_names}

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def _check_grads(self) -> list:
        """Indices of the parameters that have a gradient; a mis-shaped gradient is an error."""
        present = []
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            if np.shape(p.grad) != p.shape:
                raise ValueError(f"{type(self).__name__}.step: parameter {i} has grad of shape {np.shape(p.grad)}, expected {p.shape}")
            present.append(i)
        return present

    def step(self) -> None:
        """Update every parameter that has a gradient (parameters without one are left alone)."""
        flat_grad = self._flat.flat_grad()
        if flat_grad is not None and self._flat.ready():  # every gradient sits in the flat buffer
            self.step_count += 1
            self._update(self._flat.flat, flat_grad, self._state)
            return
        present = self._check_grads()
        if not present:
            return
        self.step_count += 1
        if len(present) == len(self.params) and self._flat.ready():
            self._update(self._flat.flat, self._flat.gather_grads(), self._state)
            return
        offsets = self._flat.offsets
        for i in present:
            p = self.params[i]
            lo, hi = offsets[i], offsets[i + 1]
            state = {k: v[lo:hi].reshape(p.shape) for k, v in self._state.items()}
            grad = np.asarray(p.grad, dtype=p.data.dtype)
            self._update(p.data, grad, state)

    def flat_grad(self) -> np.ndarray | None:
        """All parameters' gradients as one flat array to edit in place (clip, scale), or None.

        Available after a backward that gave every parameter its first gradient, until a `.grad`
        is replaced; editing it edits every `p.grad` (they are views of it).
        """
        return self._flat.flat_grad()

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict) -> None:  # pragma: no cover
        raise NotImplementedError

    # ----- state -------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Step count, hyper-parameters and per-parameter state arrays (copies)."""
        return {
            "step": self.step_count,
            "hyperparameters": self.hyperparameters(),
            "state": {k: [a.copy() for a in self._flat.slices(v)] for k, v in self._state.items()},
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what `state_dict()` returned; shapes are checked before anything changes."""
        name = type(self).__name__
        if not isinstance(state.get("step"), (int, np.integer)) or state["step"] < 0:
            raise ValueError(f"{name}.load_state_dict: 'step' must be a non-negative int, got {state.get('step')!r}")
        unknown = sorted(set(state.get("hyperparameters", {})) - set(self.hyperparameters()))
        if unknown:
            raise ValueError(f"{name}.load_state_dict: unknown hyperparameters {unknown}")
        arrays = state.get("state", {})
        if set(arrays) != set(self._state):
            raise ValueError(f"{name}.load_state_dict: state keys {sorted(arrays)}, expected {sorted(self._state)}")
        for key, values in arrays.items():
            if len(values) != len(self.params):
                raise ValueError(f"{name}.load_state_dict: '{key}' has {len(values)} arrays for {len(self.params)} parameters")
            for i, (value, p) in enumerate(zip(values, self.params)):
                if np.shape(value) != p.shape:
                    raise ValueError(f"{name}.load_state_dict: '{key}' {i} has shape {np.shape(value)}, expected {p.shape}")
        for key, values in arrays.items():
            for view, value in zip(self._flat.slices(self._state[key]), values):
                view[...] = value
        self.step_count = int(state["step"])
        for key, value in state.get("hyperparameters", {}).items():
            setattr(self, key, tuple(value) if isinstance(value, list) else value)

    def hyperparameters(self) -> dict:
        return {"lr": self.lr}


class SGD(Optimizer):
    """p -= lr * v, with v = momentum * v + (g + weight_decay * p) (PyTorch's convention)."""

    state_names = ("momentum_buffer",)

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: momentum ({momentum}) and weight_decay ({weight_decay}) must be >= 0")
        self.momentum, self.weight_decay, self.nesterov = float(momentum), float(weight_decay), bool(nesterov)

    def _update(self, data, grad, state):
        if self.weight_decay:
            grad = grad + self.weight_decay * data
        if self.momentum:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += grad
            grad = grad + self.momentum * buf if self.nesterov else buf
        data -= self.lr * grad

    def hyperparameters(self) -> dict:
        return {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam with bias correction; `weight_decay` adds an L2 term to the gradient (as torch.optim.Adam)."""

    state_names = ("exp_avg", "exp_avg_sq")
    decoupled = False

    def __init__(self, params, lr: float = 0.001, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1), got {betas}")
        self.betas, self.eps, self.weight_decay = (float(betas[0]), float(betas[1])), float(eps), float(weight_decay)

    def _update(self, data, grad, state):
        beta1, beta2 = self.betas
        if self.weight_decay:
            if self.decoupled:
                data *= 1 - self.lr * self.weight_decay
            else:
                grad = grad + self.weight_decay * data
        m, v = state["exp_avg"], state["exp_avg_sq"]
        t = self.step_count
        buf = grad * (1 - beta1)  # the one scratch array of the update
        m *= beta1
        m += buf
        np.multiply(grad, grad, out=buf)
        buf *= 1 - beta2
        v *= beta2
        v += buf
        denom = np.sqrt(v, out=buf)
        denom *= 1.0 / math.sqrt(1 - beta2**t)
        denom += self.eps
        update = np.divide(m, denom, out=buf)
        update *= self.lr / (1 - beta1**t)
        data -= update

    def hyperparameters(self) -> dict:
        return {"lr": self.lr, "betas": list(self.betas), "eps": self.eps, "weight_decay": self.weight_decay}


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the Adam step."""

    decoupled = True

    def __init__(self, params, lr: float = 0.001, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.01):
        super().__init__(params, lr, betas, eps, weight_decay)
