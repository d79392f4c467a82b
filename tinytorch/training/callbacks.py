"""Callbacks: small objects `Trainer.fit` calls after each step, each evaluation and at the end.

Evaluation is part of the loop; printing, progress bars, loss logs, checkpoints and early stopping are
callbacks, so one loop serves the CLI, the experiments and user scripts (as in Keras or Lightning).
"""

from __future__ import annotations

import math
import time

from ..core.validation import check_float, check_int
from ..runtime.fileio import atomic_write

__all__ = ["Callback", "EveryStep", "EveryEval", "EarlyStopping", "EvalLines", "ProgressBar", "Checkpoints", "LossLog"]


class Callback:
    """Every hook does nothing; a subclass overrides the ones it needs. Set `trainer.should_stop` to stop."""

    def on_fit_start(self, trainer) -> None:
        pass

    def on_step_end(self, trainer, loss: float) -> None:
        """After each optimizer step; `loss` is that step's training loss."""

    def on_eval(self, trainer, val_loss: float) -> None:
        """After each evaluation on the validation data."""

    def on_fit_end(self, trainer) -> None:
        """After the last step, when training ended normally (early stop included)."""

    def on_interrupt(self, trainer) -> None:
        """On Ctrl-C; `fit` raises KeyboardInterrupt again once every callback has run."""


class EveryStep(Callback):
    """Calls `fn(trainer)` after every optimizer step; a truthy return stops training (fit's `callback=`)."""

    def __init__(self, fn):
        self.fn = fn

    def on_step_end(self, trainer, loss: float) -> None:
        if self.fn(trainer):
            trainer.should_stop = True


class EveryEval(Callback):
    """Calls `fn(trainer, val_loss)` after every evaluation (e.g. to measure more than the loop does)."""

    def __init__(self, fn):
        self.fn = fn

    def on_eval(self, trainer, val_loss: float) -> None:
        self.fn(trainer, val_loss)


class EarlyStopping(Callback):
    """Stops when `patience` evaluations in a row fail to lower the best validation loss by `min_delta`."""

    def __init__(self, patience: int = 3, min_delta: float = 0.0):
        self.patience = check_int(patience, "patience", "EarlyStopping", minimum=1)
        self.min_delta = check_float(min_delta, "min_delta", "EarlyStopping", minimum=0.0)
        self.best, self.best_step, self.bad_evals = math.inf, None, 0

    def on_eval(self, trainer, val_loss: float) -> None:
        if val_loss < self.best - self.min_delta:
            self.best, self.best_step, self.bad_evals = val_loss, trainer.step, 0
            return
        self.bad_evals += 1
        if self.bad_evals >= self.patience:
            trainer.should_stop = True


class EvalLines(Callback):
    """One plain line per evaluation, like nanoGPT's: step, train and val loss, lr, tokens/s, seconds.

    The train loss is the mean over the steps since the previous evaluation. `write` prints a line
    (a progress bar's `write` keeps the bar below the lines on a terminal).
    """

    def __init__(self, total_steps: int, tokens_per_step: int, write=print):
        self.total_steps, self.tokens_per_step, self.write = total_steps, tokens_per_step, write
        self.start, self.first_step, self.recent = 0.0, 0, []

    def on_fit_start(self, trainer) -> None:
        self.start, self.first_step, self.recent = time.perf_counter(), trainer.step, []

    def on_step_end(self, trainer, loss: float) -> None:
        self.recent.append(loss)

    def seconds(self) -> float:
        return time.perf_counter() - self.start

    def tokens_per_second(self, trainer) -> float:
        return self.tokens_per_step * (trainer.step - self.first_step) / max(self.seconds(), 1e-9)

    def on_eval(self, trainer, val_loss: float) -> None:
        train = f"{sum(self.recent) / len(self.recent):.3f}" if self.recent else "-"
        self.recent = []
        self.write(f"step {trainer.step}/{self.total_steps}: train loss {train}, val loss {val_loss:.3f}, "
                   f"lr {trainer.optimizer.lr:.1e}, {self.tokens_per_second(trainer):,.0f} tok/s, "
                   f"{self.seconds():.1f} s")


class ProgressBar(Callback):
    """A tqdm bar with the last loss and validation loss; shown only when stdout is a terminal."""

    def __init__(self, total_steps: int, disable: bool = False):
        from tqdm import tqdm

        self.bar = tqdm(total=total_steps, unit="step", disable=True if disable else None,  # None: only on a TTY
                        dynamic_ncols=True, mininterval=0.5)
        self.val = "-"

    @property
    def active(self) -> bool:
        return not self.bar.disable

    def write(self, line: str) -> None:
        """Print `line` above the bar (plainly when there is no bar)."""
        if self.active:
            self.bar.write(line)
        else:
            print(line, flush=True)

    def on_fit_start(self, trainer) -> None:
        self.bar.n = self.bar.last_print_n = trainer.step
        self.bar.refresh()

    def on_step_end(self, trainer, loss: float) -> None:
        self.bar.set_postfix(loss=f"{loss:.3f}", val=self.val, refresh=False)
        self.bar.update(1)

    def on_eval(self, trainer, val_loss: float) -> None:
        self.val = f"{val_loss:.3f}"

    def on_fit_end(self, trainer) -> None:
        self.bar.close()

    on_interrupt = on_fit_end


class Checkpoints(Callback):
    """Saves the last model at each evaluation (and on Ctrl-C or at the end), the best one as well.

    `save(path, val_loss)` writes one checkpoint. The best is the lowest validation loss, counting the
    evaluations a resumed trainer's history already holds.
    """

    def __init__(self, save, path: str, best_path: str | None = None):
        self.save, self.path, self.best_path = save, path, best_path
        self.best, self.saved_step, self.val_loss = math.inf, None, None

    def on_fit_start(self, trainer) -> None:
        self.best = min(trainer.history["val_loss"], default=math.inf)
        self.val_loss = trainer.history["val_loss"][-1] if trainer.history["val_loss"] else None

    def on_eval(self, trainer, val_loss: float) -> None:
        self.val_loss = val_loss
        self._save_last(trainer)
        if self.best_path is not None and val_loss < self.best:
            self.best = val_loss
            self.save(self.best_path, val_loss)

    def _save_last(self, trainer) -> None:
        self.save(self.path, self.val_loss)
        self.saved_step = trainer.step

    def on_fit_end(self, trainer) -> None:
        if self.saved_step != trainer.step:
            self._save_last(trainer)

    on_interrupt = on_fit_end


class LossLog(Callback):
    """The loss history as CSV (step, train_loss, val_loss, lr, time), rewritten atomically at each evaluation.

    One row per optimizer step; val_loss is empty where no evaluation ran; time is the seconds since this
    `fit` started (empty for the steps of a resumed run's earlier session). A failed write raises, or
    goes to `on_error(exc)` when given.
    """

    def __init__(self, path: str, on_error=None):
        self.path, self.on_error, self.start, self.times = path, on_error, 0.0, {}

    def on_fit_start(self, trainer) -> None:
        self.start, self.times = time.perf_counter(), {}

    def on_step_end(self, trainer, loss: float) -> None:
        self.times[trainer.step] = time.perf_counter() - self.start

    def csv_text(self, trainer) -> str:
        history = trainer.history
        val = dict(zip(history["val_step"], history["val_loss"]))
        rows = ["step,train_loss,val_loss,lr,time"]
        for step, (loss, lr) in enumerate(zip(history["train_loss"], history["learning_rates"]), start=1):
            val_loss = repr(val[step]) if step in val else ""
            seconds = f"{self.times[step]:.3f}" if step in self.times else ""
            rows.append(f"{step},{loss!r},{val_loss},{lr!r},{seconds}")
        return "\n".join(rows) + "\n"

    def write(self, trainer) -> None:
        try:
            atomic_write(self.path, self.csv_text(trainer))
        except OSError as exc:  # `on_error(exc)` lets a long run go on when only its log cannot be written
            if self.on_error is None:
                raise
            self.on_error(exc)

    def on_eval(self, trainer, val_loss: float) -> None:
        self.write(trainer)

    on_fit_end = on_interrupt = write
