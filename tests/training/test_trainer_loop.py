"""Trainer: learning, gradient accumulation, clipping, schedules, evaluation, non-finite losses, state."""

import numpy as np
import pytest

import tinytorch
from tinytorch.optim.grad_clip import clip_grad_norm
from tinytorch.nn.layers import Linear
from tinytorch.nn.losses import MSELoss
from tinytorch.optim.optimizers import SGD, Adam
from tinytorch.core.tensor import Tensor
from tinytorch.training.trainer import CosineSchedule, NonFiniteLossError, Trainer
from tinytorch.training import trainer as training

from training_helpers import MLP, Batches, assert_same_params, params_snapshot, regression_data


def make(seed=0, opt=Adam, dropout=0.0, **opt_kwargs):
    tinytorch.manual_seed(seed)
    model = MLP(dropout=dropout)
    return model, opt(model.parameters(), **opt_kwargs)


def test_reexports():
    assert training.clip_grad_norm is clip_grad_norm
    for name in ("Trainer", "CosineSchedule", "clip_grad_norm", "save_checkpoint", "load_checkpoint"):
        assert getattr(training, name) is getattr(tinytorch, name)  # TinyTorch's import path, the same objects


def test_fit_reduces_regression_loss():
    x, y = regression_data(128)
    model, opt = make(lr=0.01)
    trainer = Trainer(model, opt, MSELoss())
    val = Batches(x[96:], y[96:], 32)
    start, _ = trainer.evaluate(val, record=False)
    history = trainer.fit(Batches(x[:96], y[:96], 16), epochs=40, val_loader=val)
    assert len(history["train_loss"]) == 40 * 6 and trainer.step == 240 and trainer.epoch == 40
    assert len(history["val_loss"]) == 40 and history["val_step"][-1] == 240
    assert history["val_loss"][-1] < 0.2 * start
    assert np.mean(history["train_loss"][-6:]) < 0.2 * np.mean(history["train_loss"][:6])


@pytest.mark.parametrize("opt, kwargs", [(SGD, dict(lr=0.1, momentum=0.9)), (Adam, dict(lr=0.01))])
def test_accumulation_matches_one_big_batch(opt, kwargs):
    x, y = regression_data(64)
    big_model, big_opt = make(seed=3, opt=opt, **kwargs)
    acc_model, acc_opt = make(seed=3, opt=opt, **kwargs)
    big = Trainer(big_model, big_opt, MSELoss())
    acc = Trainer(acc_model, acc_opt, MSELoss(), accumulation_steps=4)
    for step in range(3):  # three updates, each from 16 samples
        chunk = slice(16 * step, 16 * (step + 1))
        big.train_step(Tensor(x[chunk]), Tensor(y[chunk]))
        for k in range(4):
            micro = slice(16 * step + 4 * k, 16 * step + 4 * (k + 1))
            acc.train_step(Tensor(x[micro]), Tensor(y[micro]))
            assert acc.step == step + (k == 3)
    assert big.step == acc.step == 3
    assert big.last_loss == pytest.approx(acc.last_loss, rel=1e-5)
    for (name, a), (_, b) in zip(big_model.named_parameters(), acc_model.named_parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=0, atol=1e-6, err_msg=name)
    assert not np.array_equal(big_model.net[0].weight.data, make(seed=3, opt=opt, **kwargs)[0].net[0].weight.data)


def test_partial_window_is_weighted_by_samples():
    x, y = regression_data(10)
    one_model, one_opt = make(seed=5, opt=SGD, lr=0.1)
    acc_model, acc_opt = make(seed=5, opt=SGD, lr=0.1)
    Trainer(one_model, one_opt, MSELoss()).train_epoch(Batches(x, y, 10))
    loss = Trainer(acc_model, acc_opt, MSELoss(), accumulation_steps=4).train_epoch(Batches(x, y, 4))  # 4 + 4 + 2
    assert acc_opt.step_count == 1
    for (name, a), (_, b) in zip(one_model.named_parameters(), acc_model.named_parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=0, atol=1e-6, err_msg=name)
    assert loss > 0


def test_tinytorch_tail_example():
    """TinyTorch's own check: a one-sample tail with accumulation 4 weighs as one sample."""
    model = Linear(1, 1)
    model.weight.data[:] = 1.0
    model.bias.data[:] = 0.0
    trainer = Trainer(model, SGD(model.parameters(), lr=0.1), MSELoss())
    loss = trainer.train_epoch([(Tensor([[1.0]]), Tensor([[0.0]]))], accumulation_steps=4)
    assert np.allclose(model.weight.data, [[0.8]]) and np.isclose(loss, 1.0)
    assert trainer.accumulation_steps == 1 and trainer.epoch == 1


def test_global_norm_clipping_bounds_the_update():
    x, y = regression_data(32)
    model, opt = make(opt=SGD, lr=1.0)
    before = params_snapshot(model)
    Trainer(model, opt, MSELoss(), grad_clip_norm=0.05).train_step(Tensor(x * 50), Tensor(y * 50))
    delta = np.sqrt(sum(np.sum((p.data - before[n]) ** 2) for n, p in model.named_parameters()))
    assert delta == pytest.approx(0.05, rel=1e-3)


def test_value_clipping_bounds_each_element():
    x, y = regression_data(32)
    model, opt = make(opt=SGD, lr=1.0)
    before = params_snapshot(model)
    Trainer(model, opt, MSELoss(), grad_clip_value=0.01).train_step(Tensor(x * 50), Tensor(y * 50))
    deltas = [np.abs(p.data - before[n]).max() for n, p in model.named_parameters()]
    assert max(deltas) == pytest.approx(0.01, rel=1e-4)


def test_schedule_sets_learning_rate_per_step():
    x, y = regression_data(32)
    model, opt = make(lr=1.0)
    sched = CosineSchedule(max_lr=0.02, min_lr=0.002, total_steps=10, warmup_steps=2)
    trainer = Trainer(model, opt, MSELoss(), schedule=sched, accumulation_steps=2)
    trainer.fit(Batches(x, y, 4), steps=12)
    assert trainer.history["learning_rates"] == pytest.approx([sched(i) for i in range(12)])
    assert opt.lr == pytest.approx(0.002)


def test_epoch_schedule_uses_epoch_counter():
    x, y = regression_data(32)
    model, opt = make(lr=1.0)
    sched = CosineSchedule(max_lr=0.1, min_lr=0.01, total_epochs=4)
    trainer = Trainer(model, opt, MSELoss(), scheduler=sched)
    assert trainer.scheduler is sched and trainer.schedule is sched
    for _ in range(3):
        trainer.train_epoch(Batches(x, y, 8))
    assert trainer.history["learning_rates"] == pytest.approx([sched.get_lr(e) for e in range(3)])
    assert len(trainer.history["train_loss"]) == 3


def test_eval_step_builds_no_graph_and_restores_mode():
    x, y = regression_data(16)
    model, opt = make(dropout=0.5)
    trainer = Trainer(model, opt, MSELoss())
    first = trainer.eval_step(Tensor(x), Tensor(y))
    assert trainer.eval_step(Tensor(x), Tensor(y)) == first  # dropout off
    assert model.training and all(m.training for m in model.modules())
    assert all(p.grad is None for p in model.parameters())
    model.eval()
    trainer.eval_step(Tensor(x), Tensor(y))
    assert not model.training


def test_evaluate_reports_accuracy_for_class_scores():
    tinytorch.manual_seed(0)
    model = Linear(2, 3)
    model.weight.data[...] = np.eye(2, 3, dtype=np.float32)
    model.bias.data[...] = 0.0
    trainer = Trainer(model, SGD(model.parameters(), lr=0.1), tinytorch.nn.CrossEntropyLoss())
    batch = [(Tensor([[1.0, 0.0], [0.0, 1.0]]), Tensor([0, 0]))]
    loss, acc = trainer.evaluate(batch)
    assert acc == 0.5 and loss > 0 and trainer.history["eval_loss"] == [loss]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("accumulation", [1, 3])
def test_nonfinite_loss_stops_before_the_step(accumulation):
    x, y = regression_data(32)
    model, opt = make(lr=0.01)
    trainer = Trainer(model, opt, MSELoss(), accumulation_steps=accumulation)
    for i in range(3 * accumulation):
        trainer.train_step(Tensor(x[i:i + 4]), Tensor(y[i:i + 4]))
    if accumulation > 1:
        trainer.train_step(Tensor(x[:4]), Tensor(y[:4]))  # half a window of gradients pending
    before, moments = params_snapshot(model), opt.state_dict()
    bad = x[:4].copy()
    bad[1, 2] = np.nan
    with pytest.raises(FloatingPointError, match=r"loss is nan at step 3") as info:
        trainer.train_step(Tensor(bad), Tensor(y[:4]))
    assert isinstance(info.value, (ValueError, NonFiniteLossError))
    assert_same_params(model, before)
    assert opt.step_count == moments["step"] == 3 and trainer.step == 3
    assert all(p.grad is None for p in model.parameters())  # the poisoned window is gone
    huge = np.full_like(y[:4], 1e30)
    with pytest.raises(NonFiniteLossError, match="inf"):
        trainer.train_step(Tensor(x[:4]), Tensor(huge))
    assert_same_params(model, before)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fit_stops_on_nonfinite_loss():
    x, y = regression_data(32)
    x[20] = np.inf
    model, opt = make(lr=0.01)
    trainer = Trainer(model, opt, MSELoss())
    with pytest.raises(FloatingPointError, match="at step 2"):
        trainer.fit(Batches(x, y, 8), epochs=2)
    assert len(trainer.history["train_loss"]) == 2
    assert all(np.isfinite(p.data).all() for p in model.parameters())


def test_fit_steps_eval_every_and_callback():
    x, y = regression_data(32)
    model, opt = make(lr=0.01)
    trainer = Trainer(model, opt, MSELoss())
    seen = []
    history = trainer.fit(Batches(x, y, 8), steps=10, val_loader=Batches(x, y, 32), eval_every=3,
                          callback=lambda t: seen.append(t.step))
    assert seen == list(range(1, 11)) and trainer.epoch == 2  # 4 batches a pass: 2 full passes + 2 steps
    assert history["val_step"] == [3, 6, 9, 10]  # every 3 steps, and the final model
    trainer.fit(Batches(x, y, 8), steps=100, callback=lambda t: t.step >= 13)
    assert trainer.step == 13


@pytest.mark.parametrize("kwargs, message", [
    (dict(), "exactly one"), (dict(epochs=1, steps=1), "exactly one"), (dict(epochs=0), "epochs"),
    (dict(steps=2, eval_every=0), "eval_every"),
])
def test_fit_argument_errors(kwargs, message):
    model, opt = make()
    with pytest.raises(ValueError, match=message):
        Trainer(model, opt, MSELoss()).fit([], **kwargs)


def test_fit_empty_loader():
    model, opt = make()
    with pytest.raises(ValueError, match="no batches"):
        Trainer(model, opt, MSELoss()).fit([], epochs=1)


@pytest.mark.parametrize("kwargs", [dict(accumulation_steps=0), dict(grad_clip_norm=-1.0), dict(grad_clip_value=0)])
def test_constructor_errors(kwargs):
    model, opt = make()
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Trainer(model, opt, MSELoss(), **kwargs)


def test_state_dict_round_trip_and_validation():
    x, y = regression_data(32)
    model, opt = make(lr=0.01)
    trainer = Trainer(model, opt, MSELoss())
    trainer.fit(Batches(x, y, 8), epochs=2, val_loader=Batches(x, y, 32))
    state = trainer.state_dict()
    other = Trainer(*make(lr=0.01), MSELoss())
    other.load_state_dict(state)
    assert other.state_dict() == state and other.step == 8 and other.epoch == 2
    assert other.history["eval_loss"] is other.history["val_loss"]
    with pytest.raises(ValueError, match="malformed"):
        other.load_state_dict(dict(state, step=-1))
    assert other.step == 8


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nonfinite_gradient_norm_stops_before_the_step():
    x, y = regression_data(8)
    model, opt = make(lr=0.01)
    before = params_snapshot(model)
    flat_sqrt = lambda out, tgt: ((out - tgt) * 0.0).sum().sqrt()  # loss 0, gradient 0 * inf = nan
    trainer = Trainer(model, opt, flat_sqrt, grad_clip_norm=1.0)
    with pytest.raises(FloatingPointError, match="gradient norm is nan at step 0"):
        trainer.train_step(Tensor(x), Tensor(y))
    assert_same_params(model, before)
    assert trainer.step == 0 and opt.step_count == 0


@pytest.mark.parametrize("loader", [None, 3, 2.5])
def test_fit_and_evaluate_name_a_loader_that_is_not_iterable(loader):
    model, opt = make(lr=0.01)
    trainer = Trainer(model, opt, MSELoss())
    before = params_snapshot(model)
    with pytest.raises(TypeError, match="Trainer: train_loader must be an iterable"):
        trainer.fit(loader, steps=1)
    with pytest.raises(TypeError, match="Trainer: the evaluation data loader must be an iterable"):
        trainer.evaluate(loader)
    x, y = regression_data(8)
    if loader is not None:  # val_loader=None means: no evaluation
        with pytest.raises(TypeError, match="Trainer: val_loader must be an iterable"):
            trainer.fit(Batches(x, y, 4), steps=1, val_loader=loader)
    assert_same_params(model, before)
    assert trainer.step == 0


def test_fit_step_count_of_the_wrong_type_is_a_type_error():
    model, opt = make(lr=0.01)
    trainer = Trainer(model, opt, MSELoss())
    x, y = regression_data(8)
    with pytest.raises(TypeError, match="epochs must be a positive int, got 'x'"):
        trainer.fit(Batches(x, y, 4), epochs="x")
    with pytest.raises(ValueError, match="steps must be a positive int, got 0"):
        trainer.fit(Batches(x, y, 4), steps=0)


@pytest.mark.parametrize("params", [None, 5, [np.zeros(3)]])
def test_clip_grad_norm_names_bad_params(params):
    with pytest.raises(TypeError, match="clip_grad_norm: .*param"):
        clip_grad_norm(params, 1.0)
