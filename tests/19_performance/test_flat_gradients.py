"""Gradients stored in the optimizer's flat buffer: same values, no aliasing across backward passes."""

import platform
import sys

import numpy as np

import tinytorch
from tinytorch.core import allocator
from tinytorch.core.layers import Linear
from tinytorch.core.losses import CrossEntropyLoss
from tinytorch.core.optimizers import SGD, Adam
from tinytorch.core.tensor import Tensor
from tinytorch.core.training import Trainer
from tinytorch.core.transformer import GPT


def _loss(layer, seed=0):
    x = Tensor(np.random.default_rng(seed).standard_normal((4, 3)).astype(np.float32))
    return (layer(x) * layer(x)).sum()


def test_grads_land_in_one_flat_buffer_with_the_same_values():
    tinytorch.manual_seed(0)
    layer = Linear(3, 2)
    _loss(layer).backward()
    expected = [p.grad.copy() for p in layer.parameters()]
    layer.zero_grad()
    opt = SGD(layer.parameters(), lr=0.1)
    _loss(layer).backward()
    flat = opt.flat_grad()
    assert flat is not None and flat.size == sum(p.size for p in layer.parameters())
    for p, want in zip(layer.parameters(), expected):
        np.testing.assert_array_equal(p.grad, want)
        assert p.grad.base is flat
    flat *= 2.0  # editing the flat array edits every .grad
    np.testing.assert_array_equal(layer.weight.grad, 2 * expected[0])


def test_a_kept_grad_is_not_overwritten_by_the_next_backward():
    tinytorch.manual_seed(0)
    layer = Linear(3, 2)
    opt = SGD(layer.parameters(), lr=0.1)
    _loss(layer, seed=0).backward()
    kept = layer.weight.grad
    snapshot = kept.copy()
    opt.zero_grad()
    _loss(layer, seed=1).backward()
    np.testing.assert_array_equal(kept, snapshot)
    assert not np.array_equal(layer.weight.grad, snapshot)


def test_accumulating_two_backwards_and_replacing_a_grad_fall_back_correctly():
    tinytorch.manual_seed(0)
    layer = Linear(3, 2)
    opt = SGD(layer.parameters(), lr=1.0)
    _loss(layer, 0).backward()
    once = [p.grad.copy() for p in layer.parameters()]
    _loss(layer, 0).backward()  # accumulates: no longer the flat buffer's slots
    assert opt.flat_grad() is None
    for p, g in zip(layer.parameters(), once):
        np.testing.assert_allclose(p.grad, 2 * g, rtol=1e-6)
    before = [p.data.copy() for p in layer.parameters()]
    opt.step()
    for p, b, g in zip(layer.parameters(), before, once):
        np.testing.assert_allclose(p.data, b - 2 * g, rtol=1e-5, atol=1e-6)
    opt.zero_grad()
    _loss(layer, 0).backward()
    layer.bias.grad = np.zeros_like(layer.bias.grad)  # a user replaces one gradient
    assert opt.flat_grad() is None
    before = layer.bias.data.copy()
    opt.step()
    np.testing.assert_array_equal(layer.bias.data, before)


def test_trainer_clips_the_flat_buffer_like_per_parameter_clipping():
    ids = np.random.default_rng(0).integers(0, 11, (2, 9))
    inputs, targets = ids[:, :-1], ids[:, 1:]
    results = []
    for use_trainer in (True, False):
        tinytorch.manual_seed(3)
        model = GPT(11, 16, 1, 2, 16)
        opt = Adam(model.parameters(), lr=1e-2)
        trainer = Trainer(model, opt, CrossEntropyLoss(), grad_clip_value=1e-3)
        losses = []
        for _ in range(3):
            if use_trainer:
                losses.append(trainer.train_step(inputs, targets))
                continue
            opt.zero_grad()
            loss = CrossEntropyLoss()(model(inputs), targets)
            loss.backward()
            clipped = 0
            for p in model.parameters():  # replacing .grad leaves the flat buffer: the gathering path
                clipped += int(np.sum(np.abs(p.grad) > 1e-3))
                p.grad = np.clip(p.grad, -1e-3, 1e-3)
            assert clipped > 0 and opt.flat_grad() is None
            opt.step()
            losses.append(float(loss.data))
        results.append((losses, [p.data.copy() for p in model.parameters()]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_freed_memory_is_kept_for_reuse_after_the_first_backward():
    _loss(Linear(3, 2)).backward()
    assert allocator._applied is not None  # tried once, on the first backward
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert allocator.keep_freed_memory() is True  # glibc accepted both thresholds
    else:  # pragma: no cover - other C libraries
        assert allocator.keep_freed_memory() is False
