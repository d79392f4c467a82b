"""Optimizers and gradient clipping: exact updates against hand-written numpy formulas and torch.optim."""

import numpy as np
import pytest

from tinytorch import Tensor
from tinytorch.optim.grad_clip import clip_grad_norm
from tinytorch.nn.layers import Parameter
from tinytorch.optim.optimizers import SGD, Adam, AdamW

P0 = [np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -0.25]]), np.array([1.0, -2.0, 0.1])]
GRADS = [  # one list of gradients per step
    [np.array([[0.1, -0.2, 0.3], [1.0, -0.5, 0.0]]), np.array([-0.3, 0.2, 2.0])],
    [np.array([[-0.4, 0.1, 0.3], [0.2, 0.6, -1.0]]), np.array([0.5, 0.5, -1.0])],
    [np.array([[0.3, 0.3, -0.3], [-0.2, 0.1, 0.7]]), np.array([0.0, -0.8, 0.4])],
]


def make_params(dtype=np.float64):
    return [Parameter(p.copy(), dtype=dtype) for p in P0]


def run(optimizer_cls, steps, dtype=np.float64, **kwargs):
    params = make_params(dtype)
    opt = optimizer_cls(params, **kwargs)
    for grads in GRADS[:steps]:
        for p, g in zip(params, grads):
            p.grad = g.astype(dtype)
        opt.step()
    return [p.data for p in params], opt


# ----- the update rules, written out independently of the implementation ------------------------
def sgd_reference(steps, lr, momentum, weight_decay):
    params, bufs = [p.copy() for p in P0], [np.zeros_like(p) for p in P0]
    for grads in GRADS[:steps]:
        for p, b, g in zip(params, bufs, grads):
            d = g + weight_decay * p
            b[...] = momentum * b + d
            p -= lr * b
    return params


def adam_reference(steps, lr, betas, eps, weight_decay, decoupled):
    params = [p.copy() for p in P0]
    m, v = [np.zeros_like(p) for p in P0], [np.zeros_like(p) for p in P0]
    for t, grads in enumerate(GRADS[:steps], start=1):
        for i, g in enumerate(grads):
            if decoupled:
                params[i] = params[i] - lr * weight_decay * params[i]
            else:
                g = g + weight_decay * params[i]
            m[i] = betas[0] * m[i] + (1 - betas[0]) * g
            v[i] = betas[1] * v[i] + (1 - betas[1]) * g * g
            m_hat = m[i] / (1 - betas[0] ** t)
            v_hat = v[i] / (1 - betas[1] ** t)
            params[i] = params[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return params


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_sgd_momentum_weight_decay_exact(steps):
    got, _ = run(SGD, steps, lr=0.1, momentum=0.9, weight_decay=0.05)
    for g, e in zip(got, sgd_reference(steps, 0.1, 0.9, 0.05)):
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-15)


def test_sgd_one_step_by_hand():
    """p = 0.5, g = 0.1, wd = 0.05: p - 0.1 * (0.1 + 0.025) = 0.4875."""
    got, _ = run(SGD, 1, lr=0.1, momentum=0.9, weight_decay=0.05)
    assert abs(got[0][0, 0] - 0.4875) < 1e-15


ADAM_CASES = {
    "adam": (Adam, dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8), dict(weight_decay=0.0, decoupled=False)),
    "adam_l2": (Adam, dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), dict(weight_decay=0.1, decoupled=False)),
    "adamw": (AdamW, dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1), dict(weight_decay=0.1, decoupled=True)),
}


@pytest.mark.parametrize("steps", [1, 2, 3])
@pytest.mark.parametrize("case", list(ADAM_CASES))
def test_adam_family_exact(case, steps):
    cls, kwargs, rule = ADAM_CASES[case]
    got, opt = run(cls, steps, **kwargs)
    expected = adam_reference(steps, kwargs["lr"], kwargs["betas"], kwargs["eps"], **rule)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15)
    assert opt.step_count == steps


def test_adam_first_step_is_lr_times_sign():
    """With bias correction the first Adam step is lr * g / (|g| + eps): about lr * sign(g)."""
    got, _ = run(Adam, 1, lr=0.1)
    g = GRADS[0][0]
    np.testing.assert_allclose(got[0], P0[0] - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    assert abs(got[0][0, 0] - (0.5 - 0.1)) < 1e-6


def test_adamw_defaults_to_decoupled_decay_of_001():
    _, opt = run(AdamW, 1)
    assert opt.weight_decay == 0.01 and opt.lr == 0.001 and opt.betas == (0.9, 0.999)
    params = make_params()
    opt = AdamW(params, lr=0.1, weight_decay=0.5)
    params[0].grad = np.zeros((2, 3))
    params[1].grad = np.zeros(3)
    opt.step()  # zero gradient: only the decay acts
    np.testing.assert_allclose(params[0].data, P0[0] * (1 - 0.1 * 0.5), rtol=1e-14)


def test_float32_parameters_stay_float32():
    got, _ = run(AdamW, 2, dtype=np.float32, lr=0.1)
    expected = adam_reference(2, 0.1, (0.9, 0.999), 1e-8, weight_decay=0.01, decoupled=True)
    for g, e in zip(got, expected):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls, kwargs", [
    (SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.05)),
    (Adam, dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    (AdamW, dict(lr=0.1, weight_decay=0.1)),
], ids=["sgd", "adam", "adamw"])
def test_state_dict_round_trip_continues_identically(cls, kwargs):
    _, first = run(cls, 2, **kwargs)
    saved = first.state_dict()
    params = [Parameter(p.data.copy(), dtype=np.float64) for p in first.params]
    second = cls(params, **kwargs)
    second.load_state_dict(saved)
    assert second.step_count == 2
    for grads in GRADS[2:]:
        for p, q, g in zip(first.params, params, grads):
            p.grad, q.grad = g.copy(), g.copy()
        first.step()
        second.step()
    for p, q in zip(first.params, params):
        np.testing.assert_array_equal(p.data, q.data)
    for key, values in first.state_dict()["state"].items():
        for a, b in zip(values, second.state_dict()["state"][key]):
            np.testing.assert_array_equal(a, b)


def test_state_dict_is_a_copy():
    _, opt = run(Adam, 1, lr=0.1)
    state = opt.state_dict()
    state["state"]["exp_avg"][0][...] = 123.0
    assert not np.any(opt.state_dict()["state"]["exp_avg"][0] == 123.0)


def test_misshaped_state_raises_and_changes_nothing():
    _, opt = run(Adam, 2, lr=0.1)
    before = opt.state_dict()
    bad = opt.state_dict()
    bad["step"] = 7
    bad["state"]["exp_avg"][0] = np.ones((2, 3))  # fine
    bad["state"]["exp_avg_sq"][1] = np.ones(4)  # wrong: parameter 1 is (3,)
    with pytest.raises(ValueError, match=r"'exp_avg_sq' 1 has shape \(4,\), expected \(3,\)"):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after["step"] == before["step"] == 2
    for key in before["state"]:
        for a, b in zip(before["state"][key], after["state"][key]):
            np.testing.assert_array_equal(a, b)
    missing = opt.state_dict()
    del missing["state"]["exp_avg"]
    with pytest.raises(ValueError, match="state keys"):
        opt.load_state_dict(missing)


@pytest.mark.parametrize("corrupt, match", [
    (lambda s: s.pop("step"), r"state must have the keys \['hyperparameters', 'state', 'step'\]"),
    (lambda s: s.__setitem__("step", -3), "Adam.load_state_dict: step must be a non-negative int, got -3"),
    (lambda s: s["hyperparameters"].__setitem__("momentum", 0.9), r"unknown hyperparameters \['momentum'\]"),
], ids=["no_step", "negative_step", "unknown_hyperparameter"])
def test_malformed_state_raises_before_writing_moments(corrupt, match):
    _, opt = run(Adam, 2, lr=0.1)
    before = opt.state_dict()
    bad = opt.state_dict()
    bad["state"]["exp_avg"][0][...] = 5.0  # would be written if checks came after the copy
    corrupt(bad)
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(bad)
    np.testing.assert_array_equal(opt.state_dict()["state"]["exp_avg"][0], before["state"]["exp_avg"][0])
    assert opt.step_count == 2 and opt.hyperparameters() == before["hyperparameters"]


def test_parameter_without_grad_is_not_updated():
    params = make_params()
    opt = SGD(params, lr=0.1, momentum=0.9, weight_decay=0.1)
    params[0].grad = GRADS[0][0].copy()
    opt.step()
    np.testing.assert_array_equal(params[1].data, P0[1])  # no grad: not even weight decay touches it
    expected = P0[0] - 0.1 * (GRADS[0][0] + 0.1 * P0[0])
    np.testing.assert_allclose(params[0].data, expected, rtol=1e-14)


def test_replaced_data_is_still_updated():
    """A user (or a checkpoint loader) may assign a new array to p.data after creating the optimizer."""
    params = make_params()
    opt = SGD(params, lr=0.1, momentum=0.9)
    for p, g in zip(params, GRADS[0]):
        p.grad = g.copy()
    opt.step()
    params[0].data = np.full((2, 3), 7.0)
    for p, g in zip(params, GRADS[1]):
        p.grad = g.copy()
    opt.step()
    buf0 = 0.9 * GRADS[0][0] + GRADS[1][0]
    np.testing.assert_allclose(params[0].data, 7.0 - 0.1 * buf0, rtol=1e-14)
    expected1 = sgd_reference(2, 0.1, 0.9, 0.0)[1]
    np.testing.assert_allclose(params[1].data, expected1, rtol=1e-14)
    for p, g in zip(params, GRADS[2]):  # and keeps being updated in later steps
        p.grad = g.copy()
    before = params[0].data.copy()
    opt.step()
    np.testing.assert_allclose(params[0].data, before - 0.1 * (0.9 * buf0 + GRADS[2][0]), rtol=1e-14)


def test_optimizer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([])
    with pytest.raises(ValueError, match=r"Adam: lr must be >= 0.0, got -1.0"):
        Adam(make_params(), lr=-1)
    with pytest.raises(TypeError, match="requires_grad=True"):
        SGD([Tensor(np.ones(2))])
    params = make_params()
    opt = SGD(params)
    params[0].grad = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"parameter 0 has grad of shape \(3, 2\), expected \(2, 3\)"):
        opt.step()
    np.testing.assert_array_equal(params[0].data, P0[0])


def test_zero_grad_clears_every_parameter():
    params = make_params()
    opt = Adam(params)
    for p, g in zip(params, GRADS[0]):
        p.grad = g
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_clip_grad_norm_returns_the_norm_and_rescales():
    params = make_params()
    for p, g in zip(params, GRADS[0]):
        p.grad = g.copy()
    total = np.sqrt(sum(np.sum(g * g) for g in GRADS[0]))
    assert total > 1.0
    returned = clip_grad_norm(params, max_norm=1.0)
    assert abs(returned - total) < 1e-12
    clipped = np.sqrt(sum(np.sum(p.grad * p.grad) for p in params))
    assert abs(clipped - 1.0) < 1e-5
    for p, g in zip(params, GRADS[0]):
        np.testing.assert_allclose(p.grad, g / total, rtol=1e-5)  # same direction


def test_clip_grad_norm_leaves_small_gradients_and_skips_none():
    params = make_params()
    params[0].grad = GRADS[0][0].copy()
    norm = float(np.linalg.norm(GRADS[0][0]))
    assert clip_grad_norm(params, max_norm=10.0) == pytest.approx(norm, rel=1e-12)
    np.testing.assert_array_equal(params[0].grad, GRADS[0][0])
    assert params[1].grad is None
    with pytest.raises(ValueError, match=r"clip_grad_norm: max_norm must be > 0.0, got 0.0"):
        clip_grad_norm(params, max_norm=0)


TORCH_CASES = [
    (SGD, "SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.05)),
    (SGD, "SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    (Adam, "Adam", dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8)),
    (Adam, "Adam", dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    (AdamW, "AdamW", dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)),
]


@pytest.mark.parametrize("cls, torch_name, kwargs", TORCH_CASES, ids=["sgd", "sgd_nesterov", "adam", "adam_l2", "adamw"])
def test_matches_torch_optim(cls, torch_name, kwargs):
    torch = pytest.importorskip("torch")
    got, _ = run(cls, 3, **kwargs)
    tensors = [torch.tensor(p.copy(), requires_grad=True) for p in P0]
    opt = getattr(torch.optim, torch_name)(tensors, **kwargs)
    for grads in GRADS:
        for t, g in zip(tensors, grads):
            t.grad = torch.tensor(g)
        opt.step()
    for g, t in zip(got, tensors):
        np.testing.assert_allclose(g, t.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    params = make_params()
    tensors = [torch.tensor(p.copy(), requires_grad=True) for p in P0]
    for p, t, g in zip(params, tensors, GRADS[1]):
        p.grad, t.grad = g.copy(), torch.tensor(g)
    ours = clip_grad_norm(params, max_norm=0.5)
    theirs = torch.nn.utils.clip_grad_norm_(tensors, max_norm=0.5)
    assert abs(ours - theirs.item()) < 1e-12
    for p, t in zip(params, tensors):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)
