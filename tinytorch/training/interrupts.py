"""Ctrl-C and SIGTERM during training: both stop the loop the same way, never in the middle of an update.

`InterruptGuard` turns SIGINT and SIGTERM into exceptions (`KeyboardInterrupt`, and its subclass
`Terminated` for SIGTERM, so a batch system's stop saves like Ctrl-C does). Inside `critical()`
a signal is held until the block ends: an optimizer step and the counters that describe it change
together or not at all, so a checkpoint written on the way out is always a state the loop was in.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C's KeyboardInterrupt would be (a subclass, so one handler serves both)."""

    signal_name = "SIGTERM"


def _exception_for(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


class InterruptGuard:
    """Context manager: while active, SIGINT/SIGTERM raise at once, or at the end of a `critical()` block.

    Outside the main thread (where Python cannot install handlers) it changes nothing.
    """

    def __init__(self):
        self._depth, self._pending, self._previous = 0, None, {}

    def _handle(self, signum, frame) -> None:
        if self._depth:
            self._pending = signum  # raised when the critical block ends
            return
        raise _exception_for(signum)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    @contextmanager
    def critical(self):
        """Hold SIGINT/SIGTERM until the block ends, then raise the held one."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if not self._depth and self._pending is not None:
            signum, self._pending = self._pending, None
            raise _exception_for(signum)
