"""Optimizers: SGD (momentum, weight decay), Adam, and AdamW (decoupled weight decay).

Each keeps its parameters in one flat layout (`flat_params.py`), so a step is a handful of vectorised
numpy calls over all weights (the rules one parameter at a time, as a book writes them: `reference.py`). As in PyTorch, `params` may be a list of groups (dicts with "params" and
an optional "weight_decay"), e.g. to decay matrices but not biases and LayerNorm gains (nanoGPT's AdamW). Hyper-parameters are checked by one set of rules, for the constructor and
for `load_state_dict` alike; `check_state_dict` validates a whole state without changing anything.
"""

from __future__ import annotations

import math

import numpy as np

from .flat_params import FlatParameters
from ..core.ops.blocks import in_blocks
from .grads import checked_grads, parameter_list
from ..core.validation import check_bool, check_float, check_int, describe
from ..runtime.threads import step_threads


def _non_negative(value, name: str, where: str) -> float:
    return check_float(value, name, where, minimum=0.0)


def _positive(value, name: str, where: str) -> float:
    return check_float(value, name, where, minimum=0.0, min_inclusive=False)


def _betas(value, name: str, where: str) -> tuple:
    """A pair of floats in [0, 1); a list is accepted (that is how JSON stores the pair)."""
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{where}: {name} must be a pair of floats in [0, 1), got {describe(value)}")
    if len(value) != 2:
        raise ValueError(f"{where}: {name} must be a pair of floats in [0, 1), got {len(value)} values")
    pair = tuple(check_float(b, f"{name}[{i}]", where, minimum=0.0) for i, b in enumerate(value))
    for i, b in enumerate(pair):
        if b >= 1.0:
            raise ValueError(f"{where}: {name}[{i}] must be < 1, got {b}")
    return pair


# One rule per hyper-parameter name. lr may be 0 (as in PyTorch): a schedule can end there.
_RULES = {"lr": _non_negative, "momentum": _non_negative, "weight_decay": _non_negative, "eps": _positive,
          "nesterov": check_bool, "betas": _betas}


def _refuse_repeats(params: list, where: str) -> None:
    """A parameter listed twice would be updated twice per step (PyTorch refuses it too): a ValueError naming both places."""
    first = {}
    for i, p in enumerate(params):
        if id(p) in first:
            raise ValueError(f"{where}: the same parameter (shape {p.shape}) is listed twice, at positions "
                             f"{first[id(p)]} and {i}; each may be updated once per step")
        first[id(p)] = i


class Optimizer:
    """Base class: the parameters (in one flat layout), the step count, hyper-parameters and state arrays."""

    state_names: tuple = ()  # per-parameter state arrays, stored flat like the weights
    non_negative_state: tuple = ()  # state arrays that can never hold a negative value
    hyperparameter_names: tuple = ("lr",)

    def __init__(self, params, **hyperparameters):
        where = type(self).__name__
        checked = self._check_hyperparameters(hyperparameters, where)  # before anything changes
        unique, decays = self._grouped(params, checked.get("weight_decay", 0.0), where)
        if not unique:
            raise ValueError(f"{where}: got an empty parameter list")
        for p in unique:
            if not p.requires_grad:  # parameter_list has checked that each is a Tensor
                raise TypeError(f"{where}: every parameter must be a Tensor with requires_grad=True, got {describe(p)}")
        self.params = unique
        self._apply_hyperparameters(checked)
        self.step_count = 0
        self._flat = FlatParameters(unique)
        self._group_decay = decays  # per parameter: its group's weight_decay, None where the default applies
        if self._flat.flat is not None:  # state arrays in the same flat layout, viewed per parameter
            self._state = {name: np.zeros(self._flat.size, dtype=self._flat.flat.dtype) for name in self.state_names}
            views = {name: self._flat.slices(flat) for name, flat in self._state.items()}
            self._param_state = [{name: views[name][i] for name in self.state_names} for i in range(len(unique))]
        else:  # mixed dtypes: each parameter's state in its own dtype
            self._state = None
            self._param_state = [{name: np.zeros(p.shape, dtype=p.data.dtype) for name in self.state_names}
                                 for p in unique]

    # ----- parameter groups --------------------------------------------------------------------
    def _grouped(self, params, default_decay: float, where: str) -> tuple[list, list]:
        """(unique parameters, per-parameter group weight_decay or None) from a parameter list or a list of groups."""
        params = list(params) if not isinstance(params, dict) else [params]
        if not any(isinstance(g, dict) for g in params):
            unique = parameter_list(params, where)
            _refuse_repeats(unique, where)
            return unique, [None] * len(unique)
        unique, decays, seen = [], [], set()
        for i, group in enumerate(params):
            if not isinstance(group, dict) or "params" not in group:
                raise TypeError(f"{where}: group {i} must be a dict with a 'params' list, got {describe(group)}")
            other = sorted(str(k) for k in group if k not in ("params", "weight_decay"))
            if other:
                raise ValueError(f"{where}: group {i} sets {other}; only 'weight_decay' may differ between groups")
            decay = _non_negative(group.get("weight_decay", default_decay), f"group {i} weight_decay", where)
            if "weight_decay" in group and "weight_decay" not in self.hyperparameter_names:
                raise ValueError(f"{where}: has no weight_decay to set per group")
            members = parameter_list(group["params"], where)
            _refuse_repeats(members, f"{where}: group {i}")
            for p in members:
                if id(p) in seen:
                    raise ValueError(f"{where}: a parameter (shape {p.shape}) appears in more than one group "
                                     f"(again in group {i}); each may be updated once per step")
                seen.add(id(p))
                unique.append(p)
                decays.append(decay if "weight_decay" in group else None)
        return unique, decays

    def _decay_runs(self, index: int | None = None) -> list:
        """[(start, stop, weight_decay)] over the flat layout (index None) or over parameter `index` raveled."""
        decays = [self.weight_decay if d is None else d for d in self._group_decay]
        if index is not None:
            return [(0, self.params[index].data.size, decays[index])] if decays[index] else []
        offsets, runs = self._flat.offsets, []
        for i, decay in enumerate(decays):
            if not decay:
                continue
            if runs and runs[-1][1] == offsets[i] and runs[-1][2] == decay:
                runs[-1] = (runs[-1][0], offsets[i + 1], decay)  # neighbours with one decay: one slice
            else:
                runs.append((offsets[i], offsets[i + 1], decay))
        return runs

    def _with_l2(self, data: np.ndarray, grad: np.ndarray, runs: list) -> np.ndarray:
        """grad + weight_decay * data on each run (a new array; `grad` is never edited)."""
        if not runs:
            return grad
        if runs == [(0, data.size, runs[0][2])]:
            return grad + runs[0][2] * data
        out, flat_data = grad.copy(), data.reshape(-1)
        flat_out = out.reshape(-1)
        for lo, hi, decay in runs:
            flat_out[lo:hi] += decay * flat_data[lo:hi]
        return out

    # ----- hyper-parameters --------------------------------------------------------------------
    def _check_hyperparameters(self, values: dict, where: str) -> dict:
        """Every hyper-parameter of this optimizer, checked by its rule; unknown or missing names are errors."""
        unknown = [k for k in values if k not in self.hyperparameter_names]
        if unknown:
            raise ValueError(f"{where}: unknown hyperparameters {describe(unknown)}")
        missing = [k for k in self.hyperparameter_names if k not in values]
        if missing:
            raise ValueError(f"{where}: missing hyperparameters {missing}")
        checked = {k: _RULES[k](values[k], k, where) for k in self.hyperparameter_names}
        self._check_combination(checked, where)
        return checked

    def _check_combination(self, values: dict, where: str) -> None:
        """Rules between hyper-parameters (none by default)."""

    def _apply_hyperparameters(self, values: dict) -> None:
        for key, value in values.items():
            setattr(self, key, value)

    def hyperparameters(self) -> dict:
        """Name -> value, as JSON can store them (a pair as a list)."""
        values = {k: getattr(self, k) for k in self.hyperparameter_names}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}

    # ----- gradients and the step --------------------------------------------------------------
    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def grad_buffers(self) -> list:
        """The arrays that hold every parameter's gradient, to edit in place (scale, clip, check) before `step()`.

        One flat array when the parameters share a dtype: each `p.grad` becomes a view of it (zeros stand
        for missing gradients), so an edit reaches both. Otherwise the `.grad` arrays themselves.
        """
        where = f"{type(self).__name__}.grad_buffers"
        if self._flat.usable(where):
            return [self._flat.gather_grads(where)]
        return [g for g in checked_grads(self.params, where) if g is not None]

    def step(self) -> None:
        """Update every parameter that has a gradient (parameters without one are left alone)."""
        with step_threads(self._flat.size):  # BLAS threads for an element-wise update (runtime/threads.py)
            self._step()

    def _step(self) -> None:
        where = f"{type(self).__name__}.step"
        if self._flat.usable(where):
            flat = self._flat.gathered()  # set when `grad_buffers()` gathered every gradient, none replaced since
            if flat is None and all(p.grad is not None for p in self.params):
                flat = self._flat.gather_grads(where)
            if flat is not None:  # one update over the flat weights, gradients and state
                self.step_count += 1
                self._update(self._flat.gather_data(), flat, self._state, self._decay_runs())
                self._flat.scatter_data()
                return
        grads = checked_grads(self.params, where)  # some gradients missing, or mixed dtypes: one by one
        present = [i for i, g in enumerate(grads) if g is not None]
        if not present:
            return
        self._flat.check_shapes(where)
        self.step_count += 1
        for i in present:
            self._update(self.params[i].data, grads[i], self._param_state[i], self._decay_runs(i))

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict, decay: list) -> None:  # pragma: no cover
        """Update `data` in place from `grad` and `state` (flat or one parameter's); never edits `grad`.

        `decay` holds the weight-decay runs [(start, stop, weight_decay)] over `data` raveled."""
        raise NotImplementedError

    # ----- state -------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Step count, hyper-parameters and per-parameter state arrays (copies)."""
        return {
            "step": self.step_count,
            "hyperparameters": self.hyperparameters(),
            "state": {k: [state[k].copy() for state in self._param_state] for k in self.state_names},
        }

    def check_state_dict(self, state) -> dict:
        """Validate a state for `load_state_dict` without changing anything; returns it checked.

        The step is a non-negative int, the hyper-parameters pass the constructor's rules, and each
        state name has one finite array per parameter of that parameter's shape.
        """
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict):
            raise TypeError(f"{where}: state must be a dict, got {describe(state)}")
        expected = ["hyperparameters", "state", "step"]
        if sorted(map(str, state)) != expected:
            raise ValueError(f"{where}: state must have the keys {expected}, got {describe(list(state))}")
        step = check_int(state["step"], "step", where, minimum=0)
        hyper = state["hyperparameters"]
        if not isinstance(hyper, dict):
            raise TypeError(f"{where}: hyperparameters must be a dict, got {describe(hyper)}")
        hyper = self._check_hyperparameters(hyper, where)
        arrays = state["state"]
        if not isinstance(arrays, dict) or sorted(map(str, arrays)) != sorted(self.state_names):
            raise ValueError(f"{where}: state keys {describe(list(arrays) if isinstance(arrays, dict) else arrays)}, "
                             f"expected {sorted(self.state_names)}")
        checked = {}
        for key in self.state_names:
            values = arrays[key]
            if not isinstance(values, (list, tuple)) or len(values) != len(self.params):
                raise ValueError(f"{where}: '{key}' must be a list of {len(self.params)} arrays "
                                 f"(one per parameter), got {describe(values)}")
            checked[key] = [self._check_state_array(key, i, value, where) for i, value in enumerate(values)]
        return {"step": step, "hyperparameters": hyper, "state": checked}

    def _check_state_array(self, key: str, i: int, value, where: str) -> np.ndarray:
        try:
            arr = np.asarray(value)
        except ValueError:  # ragged nested lists
            arr = None
        if arr is None or arr.dtype.kind not in "fiu":
            raise TypeError(f"{where}: '{key}' {i} must be an array of numbers, got {describe(value)}")
        if arr.shape != self._flat.shapes[i]:
            raise ValueError(f"{where}: '{key}' {i} has shape {arr.shape}, expected {self._flat.shapes[i]}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{where}: '{key}' {i} holds NaN or inf")
        if key in self.non_negative_state and (arr < 0).any():
            raise ValueError(f"{where}: '{key}' {i} holds negative values (it is a mean of squares)")
        return arr

    def load_state_dict(self, state: dict) -> None:
        """Restore what `state_dict()` returned: `check_state_dict` first, so a bad state changes nothing."""
        self._load_checked(self.check_state_dict(state))

    def _load_checked(self, checked: dict) -> None:
        """Apply a state that `check_state_dict` returned (trusted: no second check)."""
        for key, values in checked["state"].items():
            for state, value in zip(self._param_state, values):
                state[key][...] = value
        self.step_count = checked["step"]
        self._apply_hyperparameters(checked["hyperparameters"])


class SGD(Optimizer):
    """p -= lr * v, with v = momentum * v + (g + weight_decay * p) (PyTorch's convention)."""

    state_names = ("momentum_buffer",)
    hyperparameter_names = ("lr", "momentum", "weight_decay", "nesterov")

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)

    def _check_combination(self, values: dict, where: str) -> None:
        if values["nesterov"] and values["momentum"] == 0:
            raise ValueError(f"{where}: nesterov=True needs a momentum > 0, got momentum={values['momentum']}")

    def _update(self, data, grad, state, decay):
        grad = self._with_l2(data, grad, decay)
        if self.momentum:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += grad
            grad = grad + self.momentum * buf if self.nesterov else buf
        data -= self.lr * grad


class Adam(Optimizer):
    """Adam with bias correction; `weight_decay` adds an L2 term to the gradient (as torch.optim.Adam)."""

    state_names = ("exp_avg", "exp_avg_sq")
    non_negative_state = ("exp_avg_sq",)
    hyperparameter_names = ("lr", "betas", "eps", "weight_decay")
    decoupled = False

    def __init__(self, params, lr: float = 0.001, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _update(self, data, grad, state, decay):
        """The update, slice by slice over large contiguous arrays (`blocks`): each slice's dozen passes
        then run in cache instead of streaming four weight-sized arrays from memory a dozen times."""
        if self.decoupled:
            for lo, hi, weight_decay in decay:
                if (lo, hi) == (0, data.size):  # one parameter (maybe not contiguous), or all of them
                    data *= 1 - self.lr * weight_decay
                else:  # a run of the flat buffer, which is contiguous
                    data[lo:hi] *= 1 - self.lr * weight_decay
        else:
            grad = self._with_l2(data, grad, decay)
        in_blocks(self._update_slice, data, grad, state["exp_avg"], state["exp_avg_sq"])

    def _update_slice(self, data, grad, m, v):
        beta1, beta2 = self.betas
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


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the Adam step."""

    decoupled = True

    def __init__(self, params, lr: float = 0.001, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.01):
        super().__init__(params, lr, betas, eps, weight_decay)
