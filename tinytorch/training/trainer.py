"""Training loop: Trainer (accumulation, clipping, schedules, evaluation, checkpoints) and its helpers.

Re-exports `clip_grad_norm`, `CosineSchedule`, `save_checkpoint` and `load_checkpoint` (TinyTorch's path).
"""

from __future__ import annotations

import math

import numpy as np

from ..core.autograd import no_grad
from .callbacks import EveryStep
from .checkpoint import load_checkpoint, read_checkpoint, restore_checkpoint, save_checkpoint
from ..optim.grad_clip import clip_grad_norm
from .interrupts import InterruptGuard
from ..core.random import get_rng_state, set_rng_state
from ..optim.schedule import CosineSchedule
from ..runtime.threads import model_threads
from ..core.validation import check_float, check_int, describe

__all__ = ["Trainer", "CosineSchedule", "clip_grad_norm", "save_checkpoint", "load_checkpoint", "NonFiniteLossError"]


class NonFiniteLossError(FloatingPointError, ValueError):
    """A NaN or infinite loss (or gradient); raised before the optimizer step, so weights are untouched."""


def _finite(values: np.ndarray) -> bool:
    return bool(np.isfinite(values).all())


def _batch_size(inputs) -> int:
    shape = getattr(inputs, "shape", None)
    return int(shape[0]) if shape else len(inputs)


def _positive_int(value, what: str) -> int:
    return check_int(value, what, "Trainer", minimum=1)


def _batches(loader, what: str):
    """`loader` itself once it is known to be iterable (a DataLoader, a list of batches, a generator)."""
    if loader is None or not hasattr(loader, "__iter__"):
        raise TypeError(f"Trainer: {what} must be an iterable of (inputs, targets) batches, got {describe(loader)}")
    return loader


def _positive_or_none(value, what: str):
    return None if value is None else check_float(value, what, "Trainer", minimum=0.0, min_inclusive=False)


class Trainer:
    """Runs forward, loss, backward, clipping, the schedule's learning rate and the optimizer step.

    With `accumulation_steps=N`, every N calls of `train_step` make one optimizer step whose gradient
    is the sample-weighted mean over the N micro-batches (the same as one batch holding all of them).
    `schedule` is a `CosineSchedule` (or any callable step -> lr; an object with only `get_lr` is
    treated as per-epoch, as TinyTorch's is). `scheduler=` is accepted as TinyTorch's name for it.
    """

    def __init__(self, model, optimizer, loss_fn, schedule=None, grad_clip_norm=None, accumulation_steps: int = 1,
                 grad_clip_value=None, *, scheduler=None):
        if schedule is not None and scheduler is not None:
            raise ValueError("Trainer: give schedule or scheduler (the same thing), not both")
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.schedule = schedule if schedule is not None else scheduler
        self.grad_clip_norm = _positive_or_none(grad_clip_norm, "grad_clip_norm")
        self.grad_clip_value = _positive_or_none(grad_clip_value, "grad_clip_value")
        self.accumulation_steps = _positive_int(accumulation_steps, "accumulation_steps")
        self.step = 0  # optimizer steps taken
        self.epoch = 0  # passes over the training data completed
        self.training_mode = True
        self.last_loss = None  # mean loss of the last optimizer step's window
        self.history = {"train_loss": [], "val_loss": [], "val_step": [], "learning_rates": []}
        self.history["eval_loss"] = self.history["val_loss"]  # TinyTorch's name for the same list
        self.should_stop = False  # set by a callback to end `fit` after the current step
        self._callbacks = []
        self._interrupts = InterruptGuard()  # Ctrl-C/SIGTERM wait for an optimizer step to finish
        self._rng_at_step = None  # the RNG as the last completed step left it (what a checkpoint must hold)
        self._recorded_step = 0  # the last step `fit` recorded in history
        self._params = list(getattr(optimizer, "params", None) or model.parameters())
        self._forward = model if callable(model) else model.forward
        sched = self.schedule
        self._lr_fn = None if sched is None else (sched if callable(sched) else sched.get_lr)
        self._lr_per_epoch = sched is not None and getattr(sched, "unit", "step" if callable(sched) else "epoch") == "epoch"
        self._reset_window()

    # ----- one step ----------------------------------------------------------------------------
    def _reset_window(self) -> None:
        self._pending, self._pending_samples, self._window_loss = 0, 0, 0.0

    def _set_mode(self, training: bool) -> None:
        if hasattr(self.model, "train") and callable(self.model.train):
            self.model.train(training)
        else:
            self.model.training = training
        self.training_mode = training

    def current_lr(self):
        """The learning rate the next optimizer step will use (the optimizer's own without a schedule)."""
        if self._lr_fn is None:
            return self.optimizer.lr
        return float(self._lr_fn(self.epoch if self._lr_per_epoch else self.step))

    def _abort(self, message: str):
        """Drop the window's gradients and raise: nothing of this window reaches the weights."""
        self.optimizer.zero_grad()
        self._reset_window()
        raise NonFiniteLossError(message)

    def train_step(self, inputs, targets) -> float:
        """Forward, loss and backward on one (micro-)batch; an optimizer step when the window is full.

        Returns this batch's loss. A NaN/inf loss raises `NonFiniteLossError` before any update.
        Runs on the BLAS threads tinytorch chooses for a step of this size (core/threads.py).
        """
        with model_threads(self.model, inputs):
            return self._train_step(inputs, targets)

    def _train_step(self, inputs, targets) -> float:
        if self._pending == 0:
            self.optimizer.zero_grad()
        if getattr(self.model, "training", True) is False or not self.training_mode:
            self._set_mode(True)
        loss = self.loss_fn(self._forward(inputs), targets)
        if loss.data.size != 1:
            raise ValueError(f"Trainer.train_step: the loss must be a scalar, got shape {loss.shape}")
        value = float(loss.data.item())
        if not math.isfinite(value):
            where = f" (micro-batch {self._pending + 1} of {self.accumulation_steps})" if self.accumulation_steps > 1 else ""
            self._abort(f"Trainer.train_step: loss is {value} at step {self.step}{where}; "
                        f"stopped before the optimizer step, the weights are unchanged")
        if self.accumulation_steps == 1:
            weight = 1
            loss.backward()
        else:  # seed with the batch size: gradients accumulate per-sample sums, averaged at the step
            weight = _batch_size(inputs)
            loss.backward(np.full(loss.data.shape, weight, dtype=loss.data.dtype))
        self._pending += 1
        self._pending_samples += weight
        self._window_loss += value * weight
        if self._pending == self.accumulation_steps:
            self._optimizer_step()
        return value

    def _optimizer_step(self) -> None:
        """Average the window's gradients, clip, set the learning rate, step, zero the gradients."""
        if self._pending == 0:
            return
        count = self._pending_samples
        grads = self.optimizer.grad_buffers()  # every gradient, edited in place (one flat array as a rule)
        for g in grads:
            if count != 1:
                g *= 1.0 / count
            if self.grad_clip_value is not None:
                np.clip(g, -self.grad_clip_value, self.grad_clip_value, out=g)
        if self.grad_clip_norm is not None:
            norm = clip_grad_norm(self._params, self.grad_clip_norm)
            if not math.isfinite(norm):
                self._abort(f"Trainer: gradient norm is {norm} at step {self.step}; "
                            f"stopped before the optimizer step, the weights are unchanged")
        elif not all(_finite(g) for g in grads):
            # a finite loss can still have NaN gradients (sqrt at 0, ...)
            self._abort(f"Trainer: a gradient holds NaN or inf at step {self.step}; "
                        f"stopped before the optimizer step, the weights are unchanged")
        with self._interrupts.critical():  # the weights and the counters change together or not at all
            if self._lr_fn is not None:
                self.optimizer.lr = self.current_lr()
            self.optimizer.step()
            self.optimizer.zero_grad()
            self.last_loss = self._window_loss / count
            self.step += 1
            self._reset_window()
            self._rng_at_step = get_rng_state()

    def flush(self) -> bool:
        """Step on a partly filled accumulation window (end of an epoch); True if a step was taken."""
        had = self._pending > 0
        self._optimizer_step()
        return had

    def eval_step(self, inputs, targets) -> float:
        """The loss on one batch without a graph and in eval mode; the model's mode is restored after."""
        was_training = getattr(self.model, "training", True)
        self._set_mode(False)
        try:
            with no_grad(), model_threads(self.model, inputs, backward=False):
                loss = self.loss_fn(self._forward(inputs), targets)
        finally:
            self._set_mode(bool(was_training))
        return float(loss.data.item())

    # ----- loops -------------------------------------------------------------------------------
    def evaluate(self, dataloader, record: bool = True):
        """(sample-weighted mean loss, accuracy) over `dataloader`; accuracy is 0.0 unless outputs are
        (N, C) class scores. Recorded in history["val_loss"] (alias "eval_loss") at the current step."""
        dataloader = _batches(dataloader, "the evaluation data loader")
        was_training = getattr(self.model, "training", True)
        self._set_mode(False)
        losses, sizes, correct, counted = [], [], 0, 0
        try:
            with no_grad():
                for inputs, targets in dataloader:
                    with model_threads(self.model, inputs, backward=False):
                        outputs = self._forward(inputs)
                    n = _batch_size(inputs)
                    losses.append(float(self.loss_fn(outputs, targets).data.item()))
                    sizes.append(n)
                    out = outputs.data
                    if out.ndim == 2 and out.shape[1] > 1:
                        t = np.asarray(getattr(targets, "data", targets))
                        t = t.argmax(axis=1) if t.ndim == 2 else t.reshape(-1)
                        correct += int(np.sum(out.argmax(axis=1) == t))
                        counted += out.shape[0]
        finally:
            self._set_mode(bool(was_training))
        if not sizes:
            raise ValueError("Trainer.evaluate: the data loader yielded no batches")
        samples = sum(sizes)  # weights n / samples: a single batch's loss comes back unchanged
        loss = sum(value * (n / samples) for value, n in zip(losses, sizes))
        if record:
            self.history["val_loss"].append(loss)
            self.history["val_step"].append(self.step)
        return loss, (correct / counted if counted else 0.0)

    def _emit(self, hook: str, *args) -> None:
        for callback in self._callbacks:
            getattr(callback, hook)(self, *args)

    def _validate(self, val_loader) -> None:
        val_loss, _ = self.evaluate(val_loader)
        self._emit("on_eval", val_loss)

    def _record_step(self) -> None:
        if self._recorded_step != self.step:
            self.history["train_loss"].append(self.last_loss)
            self.history["learning_rates"].append(float(self.optimizer.lr))
            self._recorded_step = self.step

    def _roll_back_window(self) -> None:
        """After an interrupt: drop the unfinished window and put the RNG back to where the last step left it.

        So a checkpoint saved now resumes exactly: the interrupted window's batch draws (and dropout
        masks) are drawn again, as in a run that was never interrupted.
        """
        self.optimizer.zero_grad()
        self._reset_window()
        if self._rng_at_step is not None:
            set_rng_state(self._rng_at_step)
        self._record_step()

    def _after_step(self, val_loader, eval_every, end_step) -> bool:
        """Record the step, evaluate when due, run the callbacks. True means stop."""
        self._record_step()
        self._emit("on_step_end", self.last_loss)
        if val_loader is not None and eval_every and (self.step % eval_every == 0 or self.step == end_step):
            self._validate(val_loader)
        return self.should_stop or self.step == end_step

    def fit(self, train_loader, epochs: int | None = None, steps: int | None = None, val_loader=None,
            eval_every: int | None = None, callbacks=(), callback=None) -> dict:
        """Train for `epochs` passes or `steps` optimizer steps (exactly one of them); returns `history`.

        `train_loader` yields (inputs, targets); for `steps` it may be an endless generator.
        history["train_loss"] gets one entry per optimizer step. With `val_loader`, evaluation runs every
        `eval_every` steps and after the last one, or at the end of each epoch (and of training) without
        `eval_every`. `callbacks` are `Callback`s (see `tinytorch.core.callbacks`); `callback(trainer)`
        runs after each step and stops training with a truthy return. A partly filled accumulation window
        at the end of an epoch still makes its step. On Ctrl-C each callback's `on_interrupt` runs, then
        KeyboardInterrupt propagates. SIGTERM is handled the same way (as `interrupts.Terminated`, a
        KeyboardInterrupt). Either one rolls back the unfinished accumulation window and the RNG draws made
        for it first, so a checkpoint saved by `on_interrupt` resumes exactly as if never interrupted.
        """
        if (epochs is None) == (steps is None):
            raise ValueError(f"Trainer.fit: give exactly one of epochs ({epochs}) or steps ({steps})")
        train_loader = _batches(train_loader, "train_loader")
        if val_loader is not None:
            val_loader = _batches(val_loader, "val_loader")
        limit = _positive_int(epochs if steps is None else steps, "epochs" if steps is None else "steps")
        if eval_every is not None:
            eval_every = _positive_int(eval_every, "eval_every")
        self._callbacks = list(callbacks) + ([EveryStep(callback)] if callback is not None else [])
        self.should_stop = False
        end_step = self.step + limit if steps is not None else None
        self._rng_at_step, self._recorded_step = get_rng_state(), self.step
        self._emit("on_fit_start")
        with self._interrupts:
            try:
                self._loop(train_loader, limit, end_step, val_loader, eval_every)
            except KeyboardInterrupt:
                with self._interrupts.critical():  # a second Ctrl-C waits for the rescue save
                    self._roll_back_window()
                    self._emit("on_interrupt")
                raise
        self._emit("on_fit_end")
        return self.history

    def _loop(self, train_loader, limit, end_step, val_loader, eval_every) -> None:
        """Passes over `train_loader` until `end_step` (steps) or `limit` passes (epochs), or a stop."""
        passes, stop = 0, False
        while not stop and (end_step is not None or passes < limit):
            seen = False
            for inputs, targets in train_loader:
                seen = True
                before = self.step
                self.train_step(inputs, targets)
                if self.step != before:
                    stop = self._after_step(val_loader, eval_every, end_step)
                    if stop:
                        break
            else:  # a full pass: step on any partial window, then count the epoch
                if not seen:
                    raise ValueError("Trainer.fit: the training data loader yielded no batches")
                if self.flush():
                    stop = self._after_step(val_loader, eval_every, end_step)
                self.epoch += 1
                passes += 1
                if val_loader is not None and eval_every is None:
                    self._validate(val_loader)
        if val_loader is not None and self.history["val_step"][-1:] != [self.step]:
            self._validate(val_loader)  # the final model is always evaluated

    # ----- state -------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Counters and loss history (JSON-serialisable); model/optimizer state live in their own objects."""
        keys = ("train_loss", "val_loss", "val_step", "learning_rates")
        return {"step": self.step, "epoch": self.epoch, "history": {k: list(self.history[k]) for k in keys}}

    @staticmethod
    def _check_state(state) -> None:
        ok = isinstance(state, dict) and set(state) == {"step", "epoch", "history"}
        ok = ok and all(isinstance(state[k], int) and not isinstance(state[k], bool) and state[k] >= 0
                        for k in ("step", "epoch"))
        hist = state.get("history") if ok else None
        ok = ok and isinstance(hist, dict) and set(hist) == {"train_loss", "val_loss", "val_step", "learning_rates"}
        ok = ok and all(isinstance(v, list) and all(isinstance(x, (int, float)) for x in v) for v in hist.values())
        if not ok:
            raise ValueError(f"Trainer.load_state_dict: malformed trainer state {state!r:.200}")

    def load_state_dict(self, state: dict) -> None:
        """Restore counters and history; a half-filled accumulation window is dropped."""
        self._check_state(state)
        self._load_checked(state)

    def _load_checked(self, state: dict) -> None:
        """Apply a trainer state that `_check_state` passed (trusted: no second check)."""
        self.step, self.epoch = state["step"], state["epoch"]
        for key, values in state["history"].items():
            self.history[key][:] = values
        self.optimizer.zero_grad()
        self._reset_window()

    def save_checkpoint(self, path, **kwargs) -> str:
        """Model, optimizer, schedule, RNG and this trainer's state in one file (see `save_checkpoint`)."""
        schedule = self.schedule if hasattr(self.schedule, "state_dict") else None
        extra = dict(kwargs.pop("extra", None) or {}, trainer=self.state_dict())
        return save_checkpoint(path, self.model, self.optimizer, step=self.step, schedule=schedule, extra=extra, **kwargs)

    def load_checkpoint(self, path) -> dict:
        """Restore everything `save_checkpoint` wrote; the file is fully checked before anything changes."""
        meta, arrays = read_checkpoint(path)  # one read: the trainer state and the tensors come from it
        return self.restore_checkpoint(path, meta, arrays)

    def restore_checkpoint(self, path, meta: dict, arrays: dict) -> dict:
        """`load_checkpoint` on what `read_checkpoint(path)` returned, for a caller that read the file once
        to build this trainer (its model's shape from the header) and restores from that same read."""
        extra = meta.get("extra")
        state = extra.get("trainer") if isinstance(extra, dict) else None
        try:
            self._check_state(state)
        except ValueError as exc:
            raise ValueError(f"load_checkpoint: '{path}' has no valid trainer state: {exc}") from None
        schedule = self.schedule if hasattr(self.schedule, "load_state_dict") else None
        restore_checkpoint(path, meta, arrays, self.model, self.optimizer, schedule)
        self._load_checked(state)
        return meta

    # ----- TinyTorch's names (docs/COMPATIBILITY.md); also scheduler= and history["eval_loss"] in __init__ ---
    scheduler = property(lambda self: self.schedule, doc="TinyTorch's name for `schedule`.")

    def train_epoch(self, dataloader, accumulation_steps: int | None = None) -> float:
        """TinyTorch's loop: one pass, returns the sample-weighted mean loss, appended to history["train_loss"]."""
        saved = self.accumulation_steps
        if accumulation_steps is not None:
            self.accumulation_steps = _positive_int(accumulation_steps, "accumulation_steps")
        try:
            self._set_mode(True)
            if self.schedule is not None:
                self.history["learning_rates"].append(self.current_lr())
            total, samples = 0.0, 0
            for inputs, targets in dataloader:
                n = _batch_size(inputs)
                total += self.train_step(inputs, targets) * n
                samples += n
            self.flush()
        finally:
            self.accumulation_steps = saved
        loss = total / max(samples, 1)
        self.history["train_loss"].append(loss)
        self.epoch += 1
        return loss
