"""Callbacks: small objects `Trainer.fit` calls after each step, each evaluation and at the end.

Evaluation is part of the loop; printing, progress bars, loss logs, checkpoints and early stopping are
callbacks, so one loop serves the CLI, the experiments and user scripts (as in Keras or Lightning).
"""

from __future__ import annotations

import csv
import math
import os
import time

from ..core.validation import check_float, check_int
from ..runtime.fileio import atomic_write

__all__ = ["Callback", "EveryStep", "EveryEval", "EarlyStopping", "RunStats", "EvalLines", "ProgressBar", "Checkpoints",
           "LossLog", "earlier_times"]


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


class RunStats(Callback):
    """What the evaluation lines, the bar and the loss log share: the train loss since the last evaluation
    (nanoGPT's), the latest validation loss, and the seconds of training counted across a resume.

    With `chars_per_token` (characters of text per token), every loss also reads in bits per character,
    so runs with different tokenizers compare: bpc = loss / ln 2 / chars_per_token.
    """

    def __init__(self, chars_per_token: float | None = None, seconds_before: float = 0.0):
        self.bits_factor = None if chars_per_token is None else 1 / (math.log(2) * chars_per_token)
        self.seconds_before, self.start, self.first_step = seconds_before, 0.0, 0
        self.recent, self.train_loss, self.val_loss = [], None, None

    def bpc(self, loss: float) -> float | None:
        return None if self.bits_factor is None else loss * self.bits_factor

    def shown(self, loss: float) -> str:
        """'1.234', or '1.234 (1.780 bpc)' when characters per token are known."""
        bpc = self.bpc(loss)
        return f"{loss:.3f}" if bpc is None else f"{loss:.3f} ({bpc:.3f} bpc)"

    def on_fit_start(self, trainer) -> None:
        self.start, self.first_step, self.recent = time.perf_counter(), trainer.step, []
        if trainer.history["val_loss"]:
            self.val_loss = trainer.history["val_loss"][-1]

    def on_step_end(self, trainer, loss: float) -> None:
        self.recent.append(loss)

    def running_train_loss(self) -> float | None:
        """The mean step loss since the last evaluation (the last evaluation's, right after one)."""
        return sum(self.recent) / len(self.recent) if self.recent else self.train_loss

    def on_eval(self, trainer, val_loss: float) -> None:
        self.train_loss, self.val_loss, self.recent = self.running_train_loss(), val_loss, []

    def session_seconds(self) -> float:
        return time.perf_counter() - self.start

    def total_seconds(self) -> float:
        return self.seconds_before + self.session_seconds()


class _WithStats(Callback):
    """A callback that reads a RunStats: a shared one (registered before it in `callbacks`), or its own."""

    def __init__(self, stats: RunStats | None):
        self.owns_stats = stats is None
        self.stats = RunStats() if stats is None else stats

    def on_fit_start(self, trainer) -> None:
        if self.owns_stats:
            self.stats.on_fit_start(trainer)

    def on_step_end(self, trainer, loss: float) -> None:
        if self.owns_stats:
            self.stats.on_step_end(trainer, loss)

    def on_eval(self, trainer, val_loss: float) -> None:
        if self.owns_stats:
            self.stats.on_eval(trainer, val_loss)


class EvalLines(_WithStats):
    """One plain line per evaluation, like nanoGPT's: step, train and val loss (with bpc when known), lr,
    tokens/s of this session, seconds across a resume. `write` prints a line (a progress bar's `write`
    keeps the bar below the lines on a terminal)."""

    def __init__(self, total_steps: int, tokens_per_step: int, write=print, stats: RunStats | None = None):
        super().__init__(stats)
        self.total_steps, self.tokens_per_step, self.write = total_steps, tokens_per_step, write

    def on_eval(self, trainer, val_loss: float) -> None:
        super().on_eval(trainer, val_loss)
        s = self.stats
        train = "-" if s.train_loss is None else s.shown(s.train_loss)
        rate = self.tokens_per_step * (trainer.step - s.first_step) / max(s.session_seconds(), 1e-9)
        self.write(f"step {trainer.step}/{self.total_steps}: train loss {train}, val loss {s.shown(val_loss)}, "
                   f"lr {trainer.optimizer.lr:.1e}, {rate:,.0f} tok/s, {s.total_seconds():.1f} s")


class ProgressBar(_WithStats):
    """A tqdm bar (only on a terminal) with the running train loss and the latest validation loss; its rate
    counts this session's steps only, so a resumed run shows its true speed."""

    def __init__(self, total_steps: int, disable: bool = False, stats: RunStats | None = None):
        super().__init__(stats)
        self.total_steps, self.disable, self.bar = total_steps, disable, None

    @property
    def active(self) -> bool:
        return self.bar is not None and not self.bar.disable

    def write(self, line: str) -> None:
        """Print `line` above the bar (plainly when there is no bar)."""
        if self.active:
            self.bar.write(line)
        else:
            print(line, flush=True)

    def on_fit_start(self, trainer) -> None:
        from tqdm import tqdm

        super().on_fit_start(trainer)
        self.bar = tqdm(total=self.total_steps, initial=trainer.step, unit="step", dynamic_ncols=True,
                        mininterval=0.5, disable=True if self.disable else None)  # None: only on a TTY

    def on_step_end(self, trainer, loss: float) -> None:
        super().on_step_end(trainer, loss)
        s = self.stats
        val = "-" if s.val_loss is None else f"{s.val_loss:.3f}"
        self.bar.set_postfix(train=f"{s.running_train_loss():.3f}", val=val, refresh=False)
        self.bar.update(1)

    def on_fit_end(self, trainer) -> None:
        if self.bar is not None:
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


class LossLog(_WithStats):
    """The loss history as CSV (step, train_loss, val_loss, lr, time, train_bpc, val_bpc), rewritten
    atomically at each evaluation.

    One row per optimizer step; val_loss is empty where no evaluation ran; time is seconds of training
    since the run began, across resumes (`earlier`: {step: seconds} of a resumed run's earlier sessions);
    the bpc columns are empty unless the stats know characters per token. A failed write raises, or goes
    to `on_error(exc)` when given.
    """

    HEADER = ["step", "train_loss", "val_loss", "lr", "time", "train_bpc", "val_bpc"]

    def __init__(self, path: str, on_error=None, stats: RunStats | None = None, earlier: dict | None = None):
        super().__init__(stats)
        self.path, self.on_error = path, on_error
        self.times = dict(earlier or {})

    def on_step_end(self, trainer, loss: float) -> None:
        super().on_step_end(trainer, loss)
        self.times[trainer.step] = self.stats.total_seconds()

    def csv_text(self, trainer) -> str:
        history, bpc = trainer.history, self.stats.bpc
        val = dict(zip(history["val_step"], history["val_loss"]))
        rows = [",".join(self.HEADER)]
        for step, (loss, lr) in enumerate(zip(history["train_loss"], history["learning_rates"]), start=1):
            val_loss = repr(val[step]) if step in val else ""
            seconds = f"{self.times[step]:.3f}" if step in self.times else ""
            train_bpc = "" if bpc(loss) is None else f"{bpc(loss):.4f}"
            val_bpc = "" if step not in val or bpc(val[step]) is None else f"{bpc(val[step]):.4f}"
            rows.append(f"{step},{loss!r},{val_loss},{lr!r},{seconds},{train_bpc},{val_bpc}")
        return "\n".join(rows) + "\n"

    def write(self, trainer) -> None:
        try:
            atomic_write(self.path, self.csv_text(trainer))
        except OSError as exc:  # `on_error(exc)` lets a long run go on when only its log cannot be written
            if self.on_error is None:
                raise
            self.on_error(exc)

    def on_eval(self, trainer, val_loss: float) -> None:
        super().on_eval(trainer, val_loss)
        self.write(trainer)

    def on_fit_end(self, trainer) -> None:
        self.write(trainer)

    on_interrupt = on_fit_end


def earlier_times(path: str) -> dict:
    """{step: seconds} from an existing loss CSV (a resumed run's), {} when there is none or it is unreadable."""
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, newline="") as f:
            return {int(r["step"]): float(r["time"]) for r in csv.DictReader(f) if r.get("time")}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
