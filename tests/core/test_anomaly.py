"""Numerical guards: detect_anomaly names the first op making NaN/Inf; a poisoned batch never reaches a checkpoint."""

import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

import tinytorch
import tinytorch.autograd
from tinytorch import Tensor
from tinytorch.core import autograd as core_autograd
from tinytorch.core.anomaly import AnomalyError, check_backward, check_forward, detect_anomaly, is_anomaly_enabled
from tinytorch.training.checkpoint import load_checkpoint
from tinytorch.core.functions import where
from tinytorch.nn.losses import CrossEntropyLoss, MSELoss
from tinytorch.optim.optimizers import Adam
from tinytorch.training.trainer import NonFiniteLossError, Trainer
from tinytorch.nn.transformer import GPT

from reliability_helpers import build

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns on the NaNs we make


def test_alias_module_reexports_core_autograd():
    assert tinytorch.autograd.detect_anomaly is detect_anomaly
    assert tinytorch.autograd.AnomalyError is AnomalyError and issubclass(AnomalyError, FloatingPointError)
    for name in ("Function", "no_grad", "enable_grad", "is_grad_enabled", "enable_autograd"):
        assert getattr(tinytorch.autograd, name) is getattr(core_autograd, name)


def test_torch_style_path_works_after_a_plain_import():
    code = "import tinytorch; print(tinytorch.autograd.detect_anomaly.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "tinytorch.core.anomaly", out.stderr


def test_flag_is_set_restored_and_thread_local():
    seen = []
    assert not is_anomaly_enabled()
    with detect_anomaly():
        assert is_anomaly_enabled()
        worker = threading.Thread(target=lambda: seen.append(is_anomaly_enabled()))
        worker.start()
        worker.join()
        with detect_anomaly(False):
            assert not is_anomaly_enabled()
        assert is_anomaly_enabled()
        with pytest.raises(KeyError):
            with detect_anomaly():
                raise KeyError("inside")
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled() and seen == [False]


def test_forward_names_the_first_op_and_input_shapes():
    x = Tensor(np.array([[-1.0, 4.0, 9.0]]), requires_grad=True)
    with detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            ((x * 2.0).log() * 3.0).sum()
    err = info.value
    assert (err.op, err.phase, err.input_shapes) == ("Log", "forward", [(1, 3)])
    assert "Log.forward produced NaN" in str(err) and "from finite inputs" in str(err)


def test_forward_reports_inputs_that_were_already_poisoned():
    tinytorch.manual_seed(0)
    model = tinytorch.nn.Linear(3, 2)
    batch = np.ones((4, 3), dtype=np.float32)
    batch[2, 1] = np.inf
    with detect_anomaly():
        with pytest.raises(AnomalyError, match=r"Linear.forward produced (NaN|Inf).*input 0 already held Inf") as info:
            model(Tensor(batch))
    assert info.value.input_shapes == [(4, 3), (3, 2), (2,)]


def test_backward_names_the_op_whose_gradient_is_not_finite():
    x = Tensor(np.array([0.0, 1.0, 4.0]), requires_grad=True)
    with detect_anomaly():
        y = x.sqrt().sum()  # forward is finite: sqrt(0) = 0
        with pytest.raises(AnomalyError, match=r"Sqrt.backward produced Inf in the gradient of input 0 \(shape \(3,\)\)"):
            y.backward()


def test_backward_catches_the_where_nan_trap():
    x = Tensor(np.array([0.0, 2.0]), requires_grad=True)
    with detect_anomaly():
        y = where(x.data > 0, x.sqrt(), 0.0).sum()  # forward finite; 0 * inf = NaN flows back into Sqrt
        with pytest.raises(AnomalyError) as info:
            y.backward()
    assert (info.value.op, info.value.phase) == ("Sqrt", "backward")
    assert "NaN" in str(info.value)


def test_off_and_under_no_grad_nothing_is_checked():
    x = Tensor(np.array([-1.0]), requires_grad=True)
    assert np.isnan(x.log().data).all()  # off: NaN flows silently
    with detect_anomaly(), tinytorch.no_grad():
        assert np.isnan(x.log().data).all()  # no graph, no check


def test_check_functions_directly():
    class Fake:
        inputs = (Tensor(np.zeros((2, 2))),)
        needs_input_grad = [False, True]

    check_forward(Fake(), np.ones(3))
    check_forward(Fake(), np.array([np.inf], dtype=np.float32) > 0)  # bools are never anomalies
    with pytest.raises(AnomalyError, match=r"Fake.forward produced Inf .* shape \(1,\); input shapes \[\(2, 2\)\]"):
        check_forward(Fake(), np.array([np.inf]))
    check_backward(Fake(), (np.array([np.nan]), np.ones(1)))  # input 0 needs no gradient: ignored
    with pytest.raises(AnomalyError, match="gradient of input 1"):
        check_backward(Fake(), (None, np.array([1.0, np.nan])))


def test_no_false_alarm_on_a_healthy_gpt_step():
    tinytorch.manual_seed(0)
    model = GPT(11, embed_dim=8, num_layers=2, num_heads=2, max_seq_len=8, dropout=0.1)
    ids = np.random.default_rng(0).integers(0, 11, (2, 8))
    with detect_anomaly(), warnings.catch_warnings():
        warnings.simplefilter("error")  # and numpy raises no floating-point warning either
        loss = CrossEntropyLoss(ignore_index=0)(model(ids), ids)
        loss.backward()
    assert np.isfinite(loss.item())
    assert all(p.grad is not None and np.isfinite(p.grad).all() for p in model.parameters())


# ----- a poisoned batch never reaches the weights or a checkpoint ------------------------------------
def poison(kind, inputs, targets):
    inputs, targets = inputs.data.copy(), targets.data.copy()
    if kind == "nan input":
        inputs[0, 0] = np.nan
    elif kind == "inf input":
        inputs[1, 2] = np.inf
    elif kind == "nan target":
        targets[0, 0] = np.nan
    return Tensor(inputs), Tensor(targets)


@pytest.mark.parametrize("kind", ["nan input", "inf input", "nan target"])
def test_poisoned_batch_stops_training_and_the_last_checkpoint_stays_clean(tmp_path, kind):
    tinytorch.manual_seed(1)
    model = tinytorch.nn.Sequential(tinytorch.nn.Linear(3, 8), tinytorch.nn.ReLU(), tinytorch.nn.Linear(8, 1))
    trainer = Trainer(model, Adam(model.parameters(), lr=0.01), MSELoss())
    rng = np.random.default_rng(0)
    batches = [(Tensor(rng.normal(size=(4, 3))), Tensor(rng.normal(size=(4, 1)))) for _ in range(5)]
    batches[3] = poison(kind, *batches[3])
    path = tmp_path / "run.safetensors"
    with pytest.raises(NonFiniteLossError, match="at step 3; stopped before the optimizer step"):
        for inputs, targets in batches:
            trainer.train_step(inputs, targets)
            trainer.save_checkpoint(path)  # a checkpoint after every clean step
    saved = {name: p.data.copy() for name, p in model.named_parameters()}
    meta = load_checkpoint(path, model, trainer.optimizer)
    assert meta["step"] == 3 and trainer.step == 3
    for name, p in model.named_parameters():
        assert np.isfinite(p.data).all() and np.array_equal(p.data, saved[name])  # the weights never moved
    assert all(np.isfinite(a).all() for arrays in trainer.optimizer.state_dict()["state"].values() for a in arrays)


def test_finite_loss_with_nan_gradient_is_stopped_before_the_step(tmp_path):
    """No clipping: the gradient itself must be checked (this let NaN into the weights before)."""
    tinytorch.manual_seed(2)
    model = tinytorch.nn.Linear(3, 1)

    def root_abs_loss(out, y):  # sqrt(|d|) with 0 at d == 0: finite, but its gradient there is NaN
        d = out - y
        return where(d.data != 0, (d * d).sqrt().sqrt(), 0.0).mean()

    trainer = Trainer(model, Adam(model.parameters()), root_abs_loss)
    x = Tensor(np.ones((2, 3), dtype=np.float32))
    trainer.train_step(x, Tensor(np.zeros((2, 1), dtype=np.float32)))
    path = trainer.save_checkpoint(tmp_path / "ok.safetensors")
    before = [p.data.copy() for p in model.parameters()]
    exact = Tensor(model(x).data.copy())  # targets equal to the predictions: loss 0, gradient NaN
    with pytest.raises(NonFiniteLossError, match="a gradient holds NaN or inf at step 1"):
        trainer.train_step(x, exact)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))
    assert load_checkpoint(path, model)["step"] == 1
    with detect_anomaly():  # and anomaly mode points at the op
        with pytest.raises(AnomalyError, match="Sqrt.backward"):
            trainer.train_step(x, exact)


def test_anomaly_mode_in_a_training_loop_names_the_op(tmp_path):
    tok, model, loader, trainer = build(4)
    trainer.fit(loader, steps=2)
    path = trainer.save_checkpoint(tmp_path / "gpt.safetensors")
    inputs, targets = next(iter(loader))
    model.position_embedding.weight.data[3, 0] = np.nan  # a corrupted weight, as from a bad update
    with detect_anomaly():
        with pytest.raises(AnomalyError, match="Embedding.forward produced NaN"):
            trainer.train_step(inputs, targets)
    load_checkpoint(path, model)  # the clean checkpoint restores the model
    assert all(np.isfinite(p.data).all() for p in model.parameters())
