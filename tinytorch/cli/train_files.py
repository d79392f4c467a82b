"""The files `tinytorch train` writes, checked before training starts: it never writes over the user's
text or an existing checkpoint they did not ask to replace, and a failed save never loses the weights."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass

from .errors import UserError


@dataclass(frozen=True)
class TrainFiles:
    """NAME.safetensors (last), NAME-best.safetensors (best validation loss), the loss plot and log."""

    last: str
    best: str
    plot: str
    log: str

    @classmethod
    def next_to(cls, checkpoint: str) -> "TrainFiles":
        stem = os.path.splitext(checkpoint)[0]
        return cls(checkpoint, f"{stem}-best.safetensors", f"{stem}.loss.png", f"{stem}.loss.csv")

    def all(self) -> tuple:
        return (self.last, self.best, self.plot, self.log)


def same_file(a: str, b: str) -> bool:
    """True when the two paths name one file: equal once resolved, or the same inode (a hard link)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return False


def check_outputs(files: TrainFiles, data: list, resume: str | None, overwrite: bool) -> None:
    """UserError before any work when an output would replace the text, an unasked-for checkpoint, or
    cannot be written."""
    from ..runtime.fileio import check_writable

    if os.path.isdir(files.last):
        raise UserError(f"--out '{files.last}' is a directory; give a file path such as "
                        f"{os.path.join(files.last, 'model.safetensors')}")
    for path in files.all():
        for text in data:
            if same_file(path, text):
                raise UserError(f"--out '{files.last}' would write '{path}' over the training text --data '{text}'; "
                                f"choose another --out")
    continuing = resume is not None and same_file(files.last, resume)
    for path in (files.last, files.best):
        if os.path.exists(path) and not (overwrite or continuing):
            raise UserError(f"'{path}' already exists; pass --overwrite to replace it, --resume {files.last} to "
                            f"continue it, or another --out")
    for path in files.all():
        try:
            check_writable(path)
        except ValueError as exc:
            raise UserError(f"--out: {exc}") from None


def warn(message: str) -> None:
    print(f"tinytorch train: {message}", file=sys.stderr, flush=True)


def reason(exc: OSError, path: str) -> str:
    """'cannot write PATH: why' from an OSError, naming the path once."""
    text = exc.strerror or str(exc)
    return text if path in text else f"cannot write '{path}': {text}"


class RescuingSaver:
    """Calls `save(path, val_loss)`; when that fails, says why in one line and saves to a temporary file.

    `rescued[path]` is where the weights meant for `path` went (None if the fallback failed too); a later
    successful save to `path` clears it. `saved` holds the paths this run wrote.
    """

    def __init__(self, save):
        self.save, self.rescued, self.saved = save, {}, set()

    def __call__(self, path: str, val_loss) -> None:
        try:
            self.save(path, val_loss)
            self.rescued.pop(path, None)
            self.saved.add(path)
            return
        except OSError as exc:
            why = reason(exc, path)
        fallback = os.path.join(tempfile.gettempdir(), f"tinytorch-rescued-{os.getpid()}-{os.path.basename(path)}")
        try:
            self.save(fallback, val_loss)
        except OSError as exc:
            self.rescued[path] = None
            warn(f"{why}; the fallback failed too ({reason(exc, fallback)}): free some space and resume from "
                 f"the last checkpoint that was saved")
            return
        self.rescued[path] = fallback
        warn(f"{why}; the weights went to '{fallback}' instead")
