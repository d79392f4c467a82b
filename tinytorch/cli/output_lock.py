"""One writer per output: a lock file next to a command's output, so two runs never write the same file.

`tinytorch train --out X` holds X.lock and `tinytorch export DIR` holds DIR.lock for the whole run.
The lock file records the holder's pid and host; one left by a killed run (its process is gone) is
stale and taken over. The lock is created with O_EXCL, so two starts cannot both take it.
"""

from __future__ import annotations

import os
import socket

from . import UserError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def _holder(lock: str):
    """(pid, host) recorded in `lock`, or None when it is unreadable or malformed (a crash mid-write)."""
    try:
        with open(lock, encoding="utf-8") as f:
            pid, host = f.read().split()[:2]
        return int(pid), host
    except (OSError, ValueError):
        return None


class OutputLock:
    """Context manager holding `<target>.lock`; a live holder is a UserError naming it, a dead one is replaced."""

    def __init__(self, target: str, command: str):
        self.target, self.command = target, command
        self.path = os.path.abspath(target).rstrip(os.sep) + ".lock"
        self.held = False

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"{os.getpid()} {socket.gethostname()}\n")
        return True

    def acquire(self) -> "OutputLock":
        for _ in range(2):
            try:
                created = self._create()
            except OSError:  # the folder is missing or read-only: the output cannot be written either, and
                return self  # the command's own check says so in its words
            if created:
                self.held = True
                return self
            holder = _holder(self.path)
            here = socket.gethostname()
            if holder is not None and (holder[1] != here or _alive(holder[0])):
                raise UserError(f"'{self.target}' is being written by another tinytorch {self.command} (pid "
                                f"{holder[0]} on {holder[1]}, lock file '{self.path}'); wait for it to finish or "
                                f"choose another output")
            try:  # stale: its process is gone (killed); take it over
                os.remove(self.path)
            except FileNotFoundError:
                pass
        raise UserError(f"cannot take the lock '{self.path}' for '{self.target}': another run keeps taking it")

    def release(self) -> None:
        if self.held and _holder(self.path) == (os.getpid(), socket.gethostname()):
            os.remove(self.path)
        self.held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
