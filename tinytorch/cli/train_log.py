"""What `tinytorch train` shows and writes while it trains: the evaluation lines, the progress bar and the
loss CSV, with bits per character next to every loss so tokenizers compare.

One train loss everywhere: the mean of the step losses since the previous evaluation (nanoGPT prints
the same). bpc = loss / ln 2 * tokens / characters; a char tokenizer has one token per character.
"""

from __future__ import annotations

import csv
import math
import os
import time

from ..training.callbacks import Callback


class RunStats(Callback):
    """The losses and times the lines, the bar and the CSV share: the train loss since the last evaluation,
    the latest validation loss, and seconds counted across a resume (`seconds_before`)."""

    def __init__(self, chars_per_token: float, seconds_before: float = 0.0):
        self.bits_factor = 1 / (math.log(2) * chars_per_token)
        self.seconds_before, self.start, self.first_step = seconds_before, 0.0, 0
        self.recent, self.train_loss, self.val_loss = [], None, None

    def bpc(self, loss: float) -> float:
        return loss * self.bits_factor

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


class EvalLines(Callback):
    """One plain line per evaluation: step, train and val loss with their bpc, lr, tokens/s, seconds."""

    def __init__(self, stats: RunStats, total_steps: int, tokens_per_step: int, write=print):
        self.stats, self.total_steps, self.tokens_per_step, self.write = stats, total_steps, tokens_per_step, write

    def on_eval(self, trainer, val_loss: float) -> None:
        s = self.stats
        train = "-" if s.train_loss is None else f"{s.train_loss:.3f} ({s.bpc(s.train_loss):.3f} bpc)"
        rate = self.tokens_per_step * (trainer.step - s.first_step) / max(s.session_seconds(), 1e-9)
        self.write(f"step {trainer.step}/{self.total_steps}: train loss {train}, val loss {val_loss:.3f} "
                   f"({s.bpc(val_loss):.3f} bpc), lr {trainer.optimizer.lr:.1e}, {rate:,.0f} tok/s, "
                   f"{s.total_seconds():.1f} s")


class ProgressBar(Callback):
    """A tqdm bar (only on a terminal) with the running train loss and the latest validation loss; its rate
    counts this session's steps only, so a resumed run shows its true speed."""

    def __init__(self, stats: RunStats, total_steps: int, disable: bool = False):
        self.stats, self.total_steps, self.disable, self.bar = stats, total_steps, disable, None

    def write(self, line: str) -> None:
        """Print `line` above the bar (plainly when there is no bar)."""
        if self.bar is not None and not self.bar.disable:
            self.bar.write(line)
        else:
            print(line, flush=True)

    def on_fit_start(self, trainer) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=self.total_steps, initial=trainer.step, unit="step", dynamic_ncols=True,
                        mininterval=0.5, disable=True if self.disable else None)  # None: only on a TTY

    def on_step_end(self, trainer, loss: float) -> None:
        s = self.stats
        val = "-" if s.val_loss is None else f"{s.val_loss:.3f}"
        self.bar.set_postfix(train=f"{s.running_train_loss():.3f}", val=val, refresh=False)
        self.bar.update(1)

    def on_fit_end(self, trainer) -> None:
        if self.bar is not None:
            self.bar.close()

    on_interrupt = on_fit_end


class LossLog(Callback):
    """The loss history as CSV (step, train_loss, val_loss, lr, time, train_bpc, val_bpc), rewritten atomically
    at each evaluation. time is seconds of training since the run began, across resumes; the rows of an
    earlier session keep the times its CSV held."""

    HEADER = ["step", "train_loss", "val_loss", "lr", "time", "train_bpc", "val_bpc"]

    def __init__(self, path: str, stats: RunStats, on_error=None, earlier: dict | None = None):
        self.path, self.stats, self.on_error = path, stats, on_error
        self.times = dict(earlier or {})  # {step: seconds} of a resumed run's earlier sessions

    def on_step_end(self, trainer, loss: float) -> None:
        self.times[trainer.step] = self.stats.total_seconds()

    def csv_text(self, trainer) -> str:
        history, bpc = trainer.history, self.stats.bpc
        val = dict(zip(history["val_step"], history["val_loss"]))
        rows = [",".join(self.HEADER)]
        for step, (loss, lr) in enumerate(zip(history["train_loss"], history["learning_rates"]), start=1):
            val_loss = repr(val[step]) if step in val else ""
            val_bpc = f"{bpc(val[step]):.4f}" if step in val else ""
            seconds = f"{self.times[step]:.3f}" if step in self.times else ""
            rows.append(f"{step},{loss!r},{val_loss},{lr!r},{seconds},{bpc(loss):.4f},{val_bpc}")
        return "\n".join(rows) + "\n"

    def write(self, trainer) -> None:
        from ..runtime.fileio import atomic_write

        try:
            atomic_write(self.path, self.csv_text(trainer))
        except OSError as exc:  # `on_error(exc)` lets a long run go on when only its log cannot be written
            if self.on_error is None:
                raise
            self.on_error(exc)

    def on_eval(self, trainer, val_loss: float) -> None:
        self.write(trainer)

    on_fit_end = on_interrupt = write


def earlier_times(path: str) -> dict:
    """{step: seconds} from an existing loss CSV (a resumed run's), {} when there is none or it is unreadable."""
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, newline="") as f:
            return {int(r["step"]): float(r["time"]) for r in csv.DictReader(f) if r.get("time")}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
