"""The optimizer's flat layout is invisible from outside: every path gives the same update, no array is aliased."""

import numpy as np
import pytest

import tinytorch
from tinytorch.core.autograd import Function
from tinytorch.optim.grad_clip import clip_grad_norm
from tinytorch.nn.layers import Linear, Parameter
from tinytorch.nn.losses import CrossEntropyLoss, MSELoss
from tinytorch.optim.optimizers import SGD, Adam, AdamW
from tinytorch.core.tensor import Tensor
from tinytorch.training.trainer import Trainer
from tinytorch.nn.transformer import GPT

OPTIMIZERS = [
    (SGD, "SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.05)),
    (Adam, "Adam", dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    (AdamW, "AdamW", dict(lr=0.1, weight_decay=0.1)),
]
IDS = ["sgd", "adam", "adamw"]
SHAPES = [(2, 3), (3,), (4, 2)]


def _grads(step: int) -> list:
    rng = np.random.default_rng(100 + step)
    return [rng.standard_normal(s) for s in SHAPES]


def _params(dtypes=(np.float64,) * 3) -> list:
    rng = np.random.default_rng(0)
    return [Parameter(rng.standard_normal(s), dtype=d) for s, d in zip(SHAPES, dtypes)]


def _loss(layer, seed=0):
    x = Tensor(np.random.default_rng(seed).standard_normal((4, 3)).astype(np.float32))
    return (layer(x) * layer(x)).sum()


@pytest.mark.parametrize("cls, name, kwargs", OPTIMIZERS, ids=IDS)
def test_partial_gradients_update_like_torch_and_leave_the_rest_alone(cls, name, kwargs):
    """Parameter 1 never gets a gradient: the per-parameter path, checked against torch.optim."""
    torch = pytest.importorskip("torch")
    params = _params()
    tensors = [torch.tensor(p.data.copy(), requires_grad=True) for p in params]
    ours, theirs = cls(params, **kwargs), getattr(torch.optim, name)(tensors, **kwargs)
    for step in range(4):
        for i, (p, t, g) in enumerate(zip(params, tensors, _grads(step))):
            given = i != 1
            p.grad = g.copy() if given else None
            t.grad = torch.tensor(g) if given else None
        ours.step()
        theirs.step()
        for p, t in zip(params, tensors):
            np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls, name, kwargs", OPTIMIZERS, ids=IDS)
def test_flat_and_per_parameter_paths_agree_bit_for_bit(cls, name, kwargs):
    """All gradients present (one flat update) versus an extra gradient-less parameter (one update each)."""
    flat_params, loop_params = _params(), _params()
    spare = Parameter(np.ones(5))  # never gets a gradient: forces the per-parameter path
    flat_opt, loop_opt = cls(flat_params, **kwargs), cls(loop_params + [spare], **kwargs)
    for step in range(3):
        for p, q, g in zip(flat_params, loop_params, _grads(step)):
            p.grad, q.grad = g.copy(), g.copy()
        flat_opt.step()
        loop_opt.step()
    for p, q in zip(flat_params, loop_params):
        np.testing.assert_array_equal(p.data, q.data)
    np.testing.assert_array_equal(spare.data, np.ones(5))


@pytest.mark.parametrize("cls, name, kwargs", OPTIMIZERS, ids=IDS)
def test_mixed_dtypes_update_each_parameter_in_its_own_dtype(cls, name, kwargs):
    mixed = _params((np.float32, np.float64, np.float32))
    alone = [cls([p], **kwargs) for p in _params((np.float32, np.float64, np.float32))]
    together = cls(mixed, **kwargs)
    for step in range(3):
        for p, opt, g in zip(mixed, alone, _grads(step)):
            p.grad = g
            opt.params[0].grad = g
            opt.step()
        together.step()
    for p, opt in zip(mixed, alone):
        assert p.data.dtype == opt.params[0].data.dtype
        np.testing.assert_array_equal(p.data, opt.params[0].data)


def test_backward_stores_independent_copies_even_for_optimizer_parameters():
    tinytorch.manual_seed(0)
    layer = Linear(3, 2)
    SGD(layer.parameters(), lr=0.1)
    _loss(layer).backward()
    bias_before = layer.bias.grad.copy()
    layer.weight.grad[...] = 0.0  # an in-place edit of one gradient touches no other array
    np.testing.assert_array_equal(layer.bias.grad, bias_before)
    assert not np.shares_memory(layer.weight.grad, layer.bias.grad)


def test_a_kept_grad_is_never_overwritten_by_later_backwards_or_steps():
    tinytorch.manual_seed(0)
    layer = Linear(3, 2)
    opt = Adam(layer.parameters(), lr=0.1)
    _loss(layer, seed=0).backward()
    kept_before_step = layer.weight.grad
    opt.step()
    kept_after_step = layer.weight.grad  # the optimizer's gathered copy
    snapshots = kept_before_step.copy(), kept_after_step.copy()
    for seed in (1, 2):
        opt.zero_grad()
        _loss(layer, seed=seed).backward()
        opt.grad_buffers()[0] *= 3.0
        opt.step()
    np.testing.assert_array_equal(kept_before_step, snapshots[0])
    np.testing.assert_array_equal(kept_after_step, snapshots[1])


def test_editing_grad_buffers_edits_every_grad_and_the_step():
    params = _params()
    opt = SGD(params, lr=1.0)
    for p, g in zip(params, _grads(0)):
        p.grad = g.copy()
    (buffer,) = opt.grad_buffers()
    assert buffer.size == sum(p.size for p in params)
    buffer *= 0.5
    before = [p.data.copy() for p in params]
    for p, g in zip(params, _grads(0)):
        np.testing.assert_array_equal(p.grad, 0.5 * g)
    opt.step()
    for p, b, g in zip(params, before, _grads(0)):
        np.testing.assert_allclose(p.data, b - 0.5 * g, rtol=1e-14)


def test_a_replaced_grad_after_gathering_is_the_one_the_step_uses():
    params = _params()
    opt = SGD(params, lr=1.0)
    for p, g in zip(params, _grads(0)):
        p.grad = g.copy()
    opt.grad_buffers()
    params[1].grad = np.zeros(3)  # replaced after the buffer was gathered
    before = params[1].data.copy()
    opt.step()
    np.testing.assert_array_equal(params[1].data, before)


def test_replaced_data_with_another_shape_is_an_error_that_changes_nothing():
    params = _params()
    opt = Adam(params, lr=0.1)
    params[0].data = np.zeros((3, 2))
    for p, g in zip(params, _grads(0)):
        p.grad = g if p is not params[0] else None
    params[0].grad = np.ones((3, 2))
    saved = [p.data.copy() for p in params]
    with pytest.raises(ValueError, match=r"Adam.step: parameter 0 now has shape \(3, 2\), but the optimizer was built for \(2, 3\)"):
        opt.step()
    assert opt.step_count == 0
    for p, s in zip(params, saved):
        np.testing.assert_array_equal(p.data, s)


def _train(use_trainer: bool, clip: dict, accumulation: int) -> tuple:
    """Three optimizer steps of a small GPT, by the Trainer or by a hand-written loop on p.grad."""
    ids = np.random.default_rng(0).integers(0, 11, (2, 9))
    inputs, targets = ids[:, :-1], ids[:, 1:]
    tinytorch.manual_seed(3)
    model = GPT(11, 16, 1, 2, 16)
    opt = Adam(model.parameters(), lr=1e-2)
    trainer = Trainer(model, opt, CrossEntropyLoss(), accumulation_steps=accumulation, **clip)
    weight = 2.0 if accumulation > 1 else 1.0  # the Trainer seeds each micro-batch with its batch size
    for i in range(3 * accumulation):
        if use_trainer:
            trainer.train_step(inputs, targets)
            continue
        if i % accumulation == 0:
            opt.zero_grad()
        loss = CrossEntropyLoss()(model(inputs), targets)
        loss.backward(np.full(loss.shape, weight))
        if (i + 1) % accumulation:
            continue
        for p in model.parameters():
            p.grad = p.grad / (weight * accumulation)
            if "grad_clip_value" in clip:
                p.grad = np.clip(p.grad, -clip["grad_clip_value"], clip["grad_clip_value"])
        if "grad_clip_norm" in clip:
            clip_grad_norm(model.parameters(), clip["grad_clip_norm"])
        opt.step()
    return [p.data.copy() for p in model.parameters()]


@pytest.mark.parametrize("clip, accumulation", [
    (dict(grad_clip_value=1e-3), 1),
    (dict(grad_clip_norm=0.05), 1),
    (dict(grad_clip_value=1e-3), 2),
], ids=["value", "norm", "value_accumulated"])
def test_trainer_step_equals_a_hand_written_loop(clip, accumulation):
    for ours, hand in zip(_train(True, clip, accumulation), _train(False, clip, accumulation)):
        np.testing.assert_allclose(ours, hand, rtol=1e-5, atol=1e-7)


def test_a_failed_backward_stores_no_gradient_at_all():
    class Fails(Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, grad):
            raise FloatingPointError("this backward fails")

    x = Parameter(np.ones(3))
    y = Fails.apply(x)
    w = Parameter(np.ones(3))  # created after y: the engine reaches it before y's failing backward
    with pytest.raises(FloatingPointError, match="this backward fails"):
        (y + w * 2.0).sum().backward()
    assert x.grad is None and w.grad is None


def test_trainer_with_mixed_dtypes_edits_each_grad_in_place_like_a_hand_loop():
    """No flat layout (float32 weight, float64 bias): grad_buffers() are the .grad arrays themselves."""
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    y = np.random.default_rng(1).standard_normal((4, 1))
    results = []
    for use_trainer in (True, False):
        tinytorch.manual_seed(0)
        model = Linear(3, 1)
        model.bias.data = model.bias.data.astype(np.float64)
        opt = SGD(model.parameters(), lr=0.5, momentum=0.9)
        trainer = Trainer(model, opt, MSELoss(), grad_clip_value=0.05, accumulation_steps=2)
        for _ in range(3):
            if use_trainer:
                trainer.train_step(x[:2], y[:2])
                trainer.train_step(x[2:], y[2:])
                continue
            opt.zero_grad()
            for rows in (slice(0, 2), slice(2, 4)):
                MSELoss()(model(x[rows]), Tensor(y[rows])).backward(np.full((), 2.0))
            for p in model.parameters():
                p.grad = np.clip(p.grad / 4.0, -0.05, 0.05)
            opt.step()
        results.append([p.data.copy() for p in model.parameters()])
    for ours, hand in zip(*results):
        assert ours.dtype == hand.dtype
        np.testing.assert_allclose(ours, hand, rtol=1e-6)
