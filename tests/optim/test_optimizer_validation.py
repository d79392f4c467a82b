"""Optimizer arguments, loaded states and gradients: every bad value is a named error raised before anything changes."""

import json
import math

import numpy as np
import pytest

from tinytorch import Tensor
from tinytorch.optim.grad_clip import clip_grad_norm
from tinytorch.nn.layers import Parameter
from tinytorch.optim.optimizers import SGD, Adam, AdamW

SHAPES = [(2, 3), (3,)]


def make_params():
    rng = np.random.default_rng(0)
    return [Parameter(rng.standard_normal(s)) for s in SHAPES]


def trained(cls=Adam, steps=2, **kwargs):
    """An optimizer after `steps` steps on fixed gradients (so its state arrays are not all zero)."""
    params = make_params()
    opt = cls(params, **kwargs)
    for step in range(steps):
        for p in params:
            p.grad = np.full(p.shape, 0.1 * (step + 1))
        opt.step()
    return opt


def snapshot(opt):
    state = opt.state_dict()
    return state, [p.data.copy() for p in opt.params]


def assert_unchanged(opt, before):
    state, data = before
    after = opt.state_dict()
    assert after["step"] == state["step"] and after["hyperparameters"] == state["hyperparameters"]
    for key in state["state"]:
        for a, b in zip(after["state"][key], state["state"][key]):
            np.testing.assert_array_equal(a, b)
    for p, d in zip(opt.params, data):
        np.testing.assert_array_equal(p.data, d)


BAD_ARGUMENTS = [
    (SGD, dict(lr="0.1"), TypeError, r"SGD: lr must be a real number, got '0.1' \(str\)"),
    (Adam, dict(lr=True), TypeError, r"Adam: lr must be a real number, got True \(bool\)"),
    (Adam, dict(lr=[0.1]), TypeError, r"Adam: lr must be a real number, got \[0.1\] \(list\)"),
    (Adam, dict(lr=float("nan")), ValueError, r"Adam: lr must be a finite number, got nan"),
    (Adam, dict(lr=float("inf")), ValueError, r"Adam: lr must be a finite number, got inf"),
    (Adam, dict(lr=-1), ValueError, r"Adam: lr must be >= 0.0, got -1.0"),
    (Adam, dict(betas=0.9), TypeError, r"Adam: betas must be a pair of floats in \[0, 1\), got 0.9 \(float\)"),
    (Adam, dict(betas=(0.9, 0.99, 0.9)), ValueError, r"Adam: betas must be a pair of floats in \[0, 1\), got 3 values"),
    (Adam, dict(betas=(1.0, 0.999)), ValueError, r"Adam: betas\[0\] must be < 1, got 1.0"),
    (AdamW, dict(betas=(0.9, -0.1)), ValueError, r"AdamW: betas\[1\] must be >= 0.0, got -0.1"),
    (Adam, dict(betas=("a", 0.9)), TypeError, r"Adam: betas\[0\] must be a real number, got 'a' \(str\)"),
    (Adam, dict(eps=-1e-8), ValueError, r"Adam: eps must be > 0.0, got -1e-08"),
    (Adam, dict(eps=0.0), ValueError, r"Adam: eps must be > 0.0, got 0.0"),
    (AdamW, dict(weight_decay=float("inf")), ValueError, r"AdamW: weight_decay must be a finite number, got inf"),
    (SGD, dict(weight_decay=-0.1), ValueError, r"SGD: weight_decay must be >= 0.0, got -0.1"),
    (SGD, dict(momentum=-0.5), ValueError, r"SGD: momentum must be >= 0.0, got -0.5"),
    (SGD, dict(momentum=float("nan")), ValueError, r"SGD: momentum must be a finite number, got nan"),
    (SGD, dict(momentum=0.9, nesterov="yes"), TypeError, r"SGD: nesterov must be a bool, got 'yes' \(str\)"),
    (SGD, dict(nesterov=True), ValueError, r"SGD: nesterov=True needs a momentum > 0, got momentum=0.0"),
]


@pytest.mark.parametrize("cls, kwargs, exc, match", BAD_ARGUMENTS, ids=[m[:40] for *_, m in BAD_ARGUMENTS])
def test_a_bad_hyperparameter_is_named_and_leaves_the_parameters_alone(cls, kwargs, exc, match):
    params = make_params()
    arrays = [p.data for p in params]
    with pytest.raises(exc, match=match):
        cls(params, **kwargs)
    assert all(p.data is a for p, a in zip(params, arrays))  # not even re-seated into a flat buffer


def test_lr_zero_is_allowed_as_in_pytorch_and_moves_nothing():
    """A schedule may end at lr 0, and a checkpoint saved there must load: 0 is valid, as in torch.optim."""
    params = make_params()
    before = [p.data.copy() for p in params]
    opt = SGD(params, lr=0)
    for p in params:
        p.grad = np.ones(p.shape)
    opt.step()
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.data, b)


def _set(path, value):
    def corrupt(state):
        target = state
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return corrupt


BAD_STATES = [
    (_set(["step"], -1), ValueError, r"Adam.load_state_dict: step must be a non-negative int, got -1"),
    (_set(["step"], 2.5), TypeError, r"step must be a non-negative int, got 2.5 \(float\)"),
    (_set(["step"], True), TypeError, r"step must be a non-negative int, got True \(bool\)"),
    (_set(["hyperparameters", "lr"], float("nan")), ValueError, r"lr must be a finite number, got nan"),
    (_set(["hyperparameters", "lr"], -1), ValueError, r"lr must be >= 0.0, got -1.0"),
    (_set(["hyperparameters", "lr"], float("inf")), ValueError, r"lr must be a finite number, got inf"),
    (_set(["hyperparameters", "lr"], [0.1]), TypeError, r"lr must be a real number, got \[0.1\] \(list\)"),
    (_set(["hyperparameters", "betas"], 0.9), TypeError, r"betas must be a pair of floats in \[0, 1\), got 0.9"),
    (_set(["hyperparameters", "betas"], [0.9, 0.99, 0.9]), ValueError, r"betas must be a pair .* got 3 values"),
    (_set(["hyperparameters", "eps"], -1.0), ValueError, r"eps must be > 0.0, got -1.0"),
    (_set(["hyperparameters", "momentum"], 0.9), ValueError, r"unknown hyperparameters \['momentum'\]"),
    (lambda s: s["hyperparameters"].pop("eps"), ValueError, r"missing hyperparameters \['eps'\]"),
    (_set(["hyperparameters"], [1, 2]), TypeError, r"hyperparameters must be a dict, got \[1, 2\] \(list\)"),
    (lambda s: s["state"].pop("exp_avg"), ValueError, r"state keys \['exp_avg_sq'\] \(list\), expected"),
    (_set(["state", "exp_avg"], [np.zeros((2, 3))]), ValueError, r"'exp_avg' must be a list of 2 arrays"),
    (_set(["state", "exp_avg", 1], np.zeros(4)), ValueError, r"'exp_avg' 1 has shape \(4,\), expected \(3,\)"),
    (_set(["state", "exp_avg", 0], np.full((2, 3), np.nan)), ValueError, r"'exp_avg' 0 holds NaN or inf"),
    (_set(["state", "exp_avg_sq", 1], -np.ones(3)), ValueError, r"'exp_avg_sq' 1 holds negative values"),
    (_set(["state", "exp_avg", 0], np.array([["a"] * 3] * 2)), TypeError, r"'exp_avg' 0 must be an array of numbers"),
    (lambda s: s.__setitem__("extra", 1), ValueError, r"state must have the keys"),
]


@pytest.mark.parametrize("corrupt, exc, match", BAD_STATES, ids=[m[:40] for *_, m in BAD_STATES])
def test_a_bad_state_is_named_and_changes_nothing(corrupt, exc, match):
    opt = trained()
    before = snapshot(opt)
    bad = opt.state_dict()
    bad["state"]["exp_avg"][0] = np.full((2, 3), 5.0)  # would be visible if anything were applied before the check
    corrupt(bad)
    with pytest.raises(exc, match=match):
        opt.check_state_dict(bad)
    with pytest.raises(exc, match=match):
        opt.load_state_dict(bad)
    assert_unchanged(opt, before)


def test_a_state_through_json_is_checked_normalised_and_applied():
    source = trained(AdamW, lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.2)
    saved = source.state_dict()
    stored = json.loads(json.dumps({"step": saved["step"], "hyperparameters": saved["hyperparameters"],
                                    "state": {k: [a.tolist() for a in v] for k, v in saved["state"].items()}}))
    target = trained(AdamW, steps=0)
    before = snapshot(target)
    checked = target.check_state_dict(stored)
    assert_unchanged(target, before)  # checking alone changes nothing
    assert checked["hyperparameters"]["betas"] == (0.8, 0.9) and checked["step"] == 2
    target.load_state_dict(stored)
    assert target.betas == (0.8, 0.9) and target.lr == 0.05 and target.step_count == 2
    for key, arrays in saved["state"].items():
        for a, b in zip(target.state_dict()["state"][key], arrays):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("max_norm, exc, match", [
    (float("nan"), ValueError, r"clip_grad_norm: max_norm must be a finite number, got nan"),
    (float("inf"), ValueError, r"clip_grad_norm: max_norm must be a finite number, got inf"),
    (-1.0, ValueError, r"clip_grad_norm: max_norm must be > 0.0, got -1.0"),
    (0, ValueError, r"clip_grad_norm: max_norm must be > 0.0, got 0.0"),
    (True, TypeError, r"clip_grad_norm: max_norm must be a real number, got True \(bool\)"),
    ("1", TypeError, r"clip_grad_norm: max_norm must be a real number, got '1' \(str\)"),
])
def test_clip_grad_norm_rejects_a_bad_max_norm_before_touching_gradients(max_norm, exc, match):
    params = make_params()
    for p in params:
        p.grad = np.full(p.shape, 10.0)
    with pytest.raises(exc, match=match):
        clip_grad_norm(params, max_norm)
    for p in params:
        np.testing.assert_array_equal(p.grad, np.full(p.shape, 10.0))


def test_a_tensor_assigned_to_grad_is_used_as_its_data():
    by_array, by_tensor = make_params(), make_params()
    for cls in (SGD, Adam):
        opts = cls(by_array, lr=0.1), cls(by_tensor, lr=0.1)
        for p, q in zip(by_array, by_tensor):
            p.grad = np.full(p.shape, 0.5)
            q.grad = Tensor(np.full(q.shape, 0.5))
        norm = clip_grad_norm(by_tensor, 0.1)
        clip_grad_norm(by_array, 0.1)
        assert math.isclose(norm, 0.5 * math.sqrt(9))
        for opt in opts:
            opt.step()
        for p, q in zip(by_array, by_tensor):
            np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("grad, exc, match", [
    (np.ones(4), ValueError, r"SGD.step: parameter 1 has grad of shape \(4,\), expected \(3,\)"),
    ("x", TypeError, r"SGD.step: parameter 1 has a grad that is not a numeric array or Tensor: 'x' \(str\)"),
    ([[1.0], [2.0, 3.0]], TypeError, r"parameter 1 has a grad that is not a numeric array"),
])
def test_a_bad_grad_is_named_before_any_parameter_moves(grad, exc, match):
    params = make_params()
    opt = SGD(params, lr=0.1)
    before = [p.data.copy() for p in params]
    params[0].grad = np.ones((2, 3))
    params[1].grad = grad
    with pytest.raises(exc, match=match):
        opt.step()
    assert opt.step_count == 0
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.data, b)
