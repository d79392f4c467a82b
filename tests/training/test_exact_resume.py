"""Resume is exact after any interruption: Ctrl-C or SIGTERM at any moment, then --resume, gives the
losses of the run that was never interrupted, bit for bit."""

import signal

import numpy as np
import pytest

import tinytorch.training.checkpoint as checkpoint_module
from tinytorch.cli.train import random_windows, validation_batches
from tinytorch.core.autograd import Function
from tinytorch.training.callbacks import Checkpoints
from tinytorch.nn.config import GPTConfig
from tinytorch.data.dataloader import TokenWindowDataset
from tinytorch.training.interrupts import Terminated
from tinytorch.nn.losses import CrossEntropyLoss
from tinytorch.optim.optimizers import AdamW
from tinytorch.core.random import manual_seed
from tinytorch.optim.schedule import CosineSchedule
from tinytorch.training.trainer import Trainer
from tinytorch.nn.transformer import GPT

STEPS, VOCAB, WINDOW, EVAL_EVERY = 12, 11, 8, 4
TOKENS = np.random.default_rng(5).integers(0, VOCAB, 400)
TRAIN = TokenWindowDataset(TOKENS[:360], WINDOW)
VAL = validation_batches(TokenWindowDataset(TOKENS[360:], WINDOW, stride=4), 4, 16)


class SignalInBackward(Function):
    """Identity whose backward sends `signum` to this process on the chosen call (an interrupt mid-backward)."""

    calls, at, signum = 0, None, signal.SIGINT

    def forward(self, x):
        return x

    def backward(self, grad):
        SignalInBackward.calls += 1
        if SignalInBackward.calls == SignalInBackward.at:
            signal.raise_signal(SignalInBackward.signum)
        return grad


def _trainer():
    manual_seed(0)  # dropout > 0: the forward draws from the RNG too, not only the batch sampler
    model = GPT(GPTConfig(vocab_size=VOCAB, embed_dim=16, num_layers=1, num_heads=2, max_seq_len=WINDOW, dropout=0.1))
    cross_entropy = CrossEntropyLoss()
    schedule = CosineSchedule(max_lr=1e-2, min_lr=1e-3, total_steps=STEPS, warmup_steps=2)
    return Trainer(model, AdamW(model.parameters(), lr=1e-2), lambda out, t: SignalInBackward.apply(cross_entropy(out, t)),
                   schedule=schedule, grad_clip_norm=1.0)


def _fit(trainer, path, batches=None):
    saver = Checkpoints(lambda p, _: trainer.save_checkpoint(p), str(path))
    trainer.fit(batches or random_windows(TRAIN, 4), steps=STEPS - trainer.step, val_loader=VAL,
                eval_every=EVAL_EVERY, callbacks=[saver])
    return trainer.history["train_loss"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    SignalInBackward.calls, SignalInBackward.at = 0, None
    return list(_fit(_trainer(), tmp_path_factory.mktemp("ref") / "ref.safetensors"))


def _signal_after_draw(at: int, signum):
    """random_windows that sends `signum` right after drawing batch number `at` (before its step)."""
    for i, batch in enumerate(random_windows(TRAIN, 4), start=1):
        if i == at:
            signal.raise_signal(signum)
        yield batch


def _resume_and_compare(path, reference, expected_exc):
    resumed = _trainer()
    resumed.load_checkpoint(path)
    SignalInBackward.at = None
    losses = _fit(resumed, path) if resumed.step < STEPS else resumed.history["train_loss"]
    assert losses == reference, f"resumed after {expected_exc.__name__} diverged"


CASES = [(where, at, signum) for where in ("draw", "backward", "optimizer step", "save")
         for at, signum in ((1, signal.SIGINT), (5, signal.SIGTERM), (10, signal.SIGINT))]


@pytest.mark.parametrize("where,at,signum", CASES, ids=[f"{w}-{a}-{s.name}" for w, a, s in CASES])
def test_interrupt_anywhere_resumes_bit_for_bit(tmp_path, monkeypatch, reference, where, at, signum):
    path = tmp_path / "run.safetensors"
    trainer, batches = _trainer(), None
    SignalInBackward.calls, SignalInBackward.at, SignalInBackward.signum = 0, None, signum
    if where == "draw":
        batches = _signal_after_draw(at, signum)
    elif where == "backward":
        SignalInBackward.at = at
    elif where == "optimizer step":  # inside the update: held until the step and its counters are done
        step, calls = trainer.optimizer.step, []

        def interrupted_step():
            calls.append(1)
            if len(calls) == at:
                signal.raise_signal(signum)
            step()
        monkeypatch.setattr(trainer.optimizer, "step", interrupted_step)
    else:  # inside the checkpoint write at an evaluation (the file is either the old one or the new one)
        write, calls = checkpoint_module.atomic_write, []

        def interrupted_write(p, data):
            calls.append(1)
            if len(calls) == 1 + at // EVAL_EVERY:
                signal.raise_signal(signum)
            return write(p, data)
        monkeypatch.setattr(checkpoint_module, "atomic_write", interrupted_write)
    expected = Terminated if signum == signal.SIGTERM else KeyboardInterrupt
    with pytest.raises(expected):
        _fit(trainer, path, batches)
    monkeypatch.undo()
    _resume_and_compare(path, reference, expected)


@pytest.mark.parametrize("seed", range(6))
def test_interrupt_at_a_random_moment_resumes_bit_for_bit(tmp_path, reference, seed):
    """A real timer signal at a random moment of the run (forward, backward, step, evaluation, save...)."""
    path = tmp_path / "run.safetensors"
    trainer = _trainer()
    SignalInBackward.calls, SignalInBackward.at = 0, None
    delay = float(np.random.default_rng(seed).uniform(0.001, 0.25))
    previous = signal.signal(signal.SIGALRM, lambda *_: signal.raise_signal(signal.SIGINT))
    signal.setitimer(signal.ITIMER_REAL, delay)
    try:
        _fit(trainer, path)
    except KeyboardInterrupt:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert trainer.history["train_loss"] == reference[:len(trainer.history["train_loss"])]
    if trainer.step < STEPS:
        _resume_and_compare(path, reference, KeyboardInterrupt)
