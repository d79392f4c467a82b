"""Trainer.fit's callbacks: hook order, early stopping, checkpoints (last and best), eval lines, Ctrl-C."""

import math
import re

import numpy as np
import pytest

import tinytorch
from tinytorch.training.callbacks import Callback, Checkpoints, EarlyStopping, EvalLines, EveryEval
from tinytorch.nn.losses import MSELoss
from tinytorch.optim.optimizers import SGD, Adam
from tinytorch.training.trainer import Trainer

from training_helpers import MLP, Batches, regression_data


def make_trainer(lr=0.01, opt=Adam):
    tinytorch.manual_seed(0)
    model = MLP()
    return Trainer(model, opt(model.parameters(), lr=lr), MSELoss())


class Recorder(Callback):
    """Every hook call, in order, as (hook, step, value)."""

    def __init__(self):
        self.calls = []

    def on_fit_start(self, trainer):
        self.calls.append(("start", trainer.step, None))

    def on_step_end(self, trainer, loss):
        self.calls.append(("step", trainer.step, loss))

    def on_eval(self, trainer, val_loss):
        self.calls.append(("eval", trainer.step, val_loss))

    def on_fit_end(self, trainer):
        self.calls.append(("end", trainer.step, None))

    def on_interrupt(self, trainer):
        self.calls.append(("interrupt", trainer.step, None))


def test_hooks_run_in_order_with_the_loop_values():
    x, y = regression_data(32)
    trainer = make_trainer()
    rec = Recorder()
    history = trainer.fit(Batches(x, y, 8), steps=5, val_loader=Batches(x, y, 32), eval_every=2, callbacks=[rec])
    hooks = [(h, s) for h, s, _ in rec.calls]
    assert hooks == [("start", 0), ("step", 1), ("step", 2), ("eval", 2), ("step", 3), ("step", 4), ("eval", 4),
                     ("step", 5), ("eval", 5), ("end", 5)]
    assert [v for h, _, v in rec.calls if h == "step"] == history["train_loss"]
    assert [v for h, _, v in rec.calls if h == "eval"] == history["val_loss"]
    assert history["val_step"] == [2, 4, 5]  # every 2 steps and the final model


def test_endless_loader_is_not_drawn_past_the_last_step():
    x, y = regression_data(8)
    drawn = []

    def endless():
        while True:
            drawn.append(1)
            yield x, y

    trainer = make_trainer()
    trainer.fit(endless(), steps=7)
    assert trainer.step == 7 and len(drawn) == 7


def test_early_stopping_stops_after_patience_evaluations_without_improvement():
    x, y = regression_data(32)
    trainer = make_trainer(lr=1e-9, opt=SGD)  # too small to lower the loss by min_delta
    stopper = EarlyStopping(patience=2, min_delta=1e-3)
    history = trainer.fit(Batches(x, y, 8), steps=100, val_loader=Batches(x, y, 32), eval_every=1,
                          callbacks=[stopper])
    assert trainer.step == 3 and history["val_step"] == [1, 2, 3]
    assert stopper.best_step == 1 and stopper.best == history["val_loss"][0]


def test_early_stopping_keeps_going_while_the_loss_improves():
    x, y = regression_data(32)
    trainer = make_trainer(lr=0.01)
    trainer.fit(Batches(x, y, 8), steps=12, val_loader=Batches(x, y, 32), eval_every=1,
                callbacks=[EarlyStopping(patience=2)])
    assert trainer.step == 12


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(patience=0), ValueError, "patience must be a positive int, got 0"),
    (dict(patience=1.5), TypeError, "patience must be a positive int, got 1.5"),
    (dict(min_delta=-1.0), ValueError, "min_delta must be >= 0.0, got -1.0"),
    (dict(min_delta=math.nan), ValueError, "min_delta must be a finite number, got nan"),
    (dict(min_delta="0.1"), TypeError, "min_delta must be a real number, got '0.1'"),
])
def test_early_stopping_arguments(kwargs, error, match):
    with pytest.raises(error, match="EarlyStopping: " + match):
        EarlyStopping(**kwargs)


def test_checkpoints_keep_the_last_and_the_best():
    x, y = regression_data(32)
    trainer = make_trainer(lr=0.01)
    saved = []
    val_losses = iter([3.0, 1.0, 2.0, 0.5])
    ckpt = Checkpoints(lambda path, val: saved.append((path, trainer.step, val)), "last", "best")

    def scripted_evaluate(loader, record=True):  # a scripted validation curve
        value = next(val_losses)
        trainer.history["val_loss"].append(value)
        trainer.history["val_step"].append(trainer.step)
        return value, 0.0

    trainer.evaluate = scripted_evaluate
    trainer.fit(Batches(x, y, 8), steps=8, val_loader=[()], eval_every=2, callbacks=[ckpt])
    assert saved == [("last", 2, 3.0), ("best", 2, 3.0), ("last", 4, 1.0), ("best", 4, 1.0),
                     ("last", 6, 2.0), ("last", 8, 0.5), ("best", 8, 0.5)]


def test_checkpoints_save_the_last_step_without_an_evaluation_there():
    x, y = regression_data(32)
    trainer = make_trainer()
    saved = []
    trainer.fit(Batches(x, y, 8), steps=3, callbacks=[Checkpoints(lambda p, v: saved.append((p, trainer.step)), "m")])
    assert saved == [("m", 3)]


def test_checkpoints_count_the_best_of_a_resumed_history():
    x, y = regression_data(32)
    trainer = make_trainer()
    trainer.history["val_loss"].append(0.0)  # a resumed run whose best validation loss was 0
    trainer.history["val_step"].append(0)
    saved = []
    trainer.fit(Batches(x, y, 8), steps=2, val_loader=Batches(x, y, 32), eval_every=1,
                callbacks=[Checkpoints(lambda p, v: saved.append(p), "last", "best")])
    assert saved == ["last", "last"]


def test_eval_lines_print_one_plain_line_per_evaluation():
    x, y = regression_data(32)
    trainer = make_trainer(lr=0.01)
    lines = []
    trainer.fit(Batches(x, y, 8), steps=4, val_loader=Batches(x, y, 32), eval_every=2,
                callbacks=[EvalLines(4, tokens_per_step=8, write=lines.append)])
    assert len(lines) == 2
    pattern = r"step (\d)/4: train loss (\d+\.\d{3}), val loss (\d+\.\d{3}), lr 1\.0e-02, [\d,]+ tok/s, \d+\.\d s"
    matches = [re.fullmatch(pattern, line) for line in lines]
    assert all(matches), lines
    assert [m.group(1) for m in matches] == ["2", "4"]
    train = trainer.history["train_loss"]
    assert float(matches[1].group(2)) == pytest.approx(np.mean(train[2:4]), abs=6e-4)  # the steps since the last eval
    assert float(matches[1].group(3)) == pytest.approx(trainer.history["val_loss"][-1], abs=6e-4)


def test_ctrl_c_runs_on_interrupt_then_propagates():
    x, y = regression_data(32)

    def interrupted():
        yield from Batches(x, y, 8)
        raise KeyboardInterrupt

    trainer = make_trainer()
    rec = Recorder()
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(interrupted(), steps=10, callbacks=[rec])
    assert [h for h, _, _ in rec.calls] == ["start", "step", "step", "step", "step", "interrupt"]
    assert trainer.step == 4


def test_every_eval_sees_each_validation_loss():
    x, y = regression_data(32)
    trainer = make_trainer()
    seen = []
    trainer.fit(Batches(x, y, 8), epochs=2, val_loader=Batches(x, y, 32),
                callbacks=[EveryEval(lambda t, v: seen.append((t.step, v)))])
    assert seen == list(zip(trainer.history["val_step"], trainer.history["val_loss"])) and len(seen) == 2


def test_callback_function_can_still_stop_training():
    x, y = regression_data(32)
    trainer = make_trainer()
    trainer.fit(Batches(x, y, 8), steps=100, callback=lambda t: t.step >= 5)
    assert trainer.step == 5
