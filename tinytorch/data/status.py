"""A progress line on stderr for long data steps: a tqdm bar on a terminal, else one line when each step ends."""

from __future__ import annotations

import sys
import time


class StatusLine:
    """`update(n)` advances the current step by n units; `step(name, total)` starts the next one.

    On a terminal each step is a tqdm bar; piped to a file, each step writes one line when it ends
    ("tokenizing: 104.9 MB in 3.1 s") if it took `min_seconds` or more, so a log shows what took the time. `enabled=False` prints nothing.
    """

    def __init__(self, prefix: str = "tinytorch", enabled: bool = True, stream=None, min_seconds: float = 1.0):
        self.prefix, self.enabled, self.min_seconds = prefix, enabled, min_seconds
        self.stream = sys.stderr if stream is None else stream
        self.bar, self.name, self.unit, self.done, self.total, self.start = None, None, "B", 0, 0, 0.0

    def step(self, name: str, total: int, unit: str = "B") -> "StatusLine":
        self.close()
        self.name, self.unit, self.done, self.total, self.start = name, unit, 0, total, time.perf_counter()
        if self.enabled and self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=f"{self.prefix}: {name}", unit=unit, unit_scale=unit == "B",
                            file=self.stream, leave=False, dynamic_ncols=True)
        return self

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        """End the current step: the bar goes, one summary line stays."""
        if self.name is None:
            return
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        seconds = time.perf_counter() - self.start
        if self.enabled and seconds >= self.min_seconds:
            amount = f"{self.done / 1e6:.1f} MB" if self.unit == "B" else f"{self.done:,} {self.unit}"
            print(f"{self.prefix}: {self.name}: {amount} in {seconds:.1f} s",
                  file=self.stream, flush=True)
        self.name = None


__all__ = ["StatusLine"]
