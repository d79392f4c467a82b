"""One check's outcome: measured value against the bar, and the likely cause when it fails."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class Outcome:
    passed: bool | None  # None: skipped (the implementation does not offer what the check needs)
    measured: str
    bar: str
    cause: str = ""  # the Debugging Checklist's words for the likely cause (shown on failure)
    seconds: float = 0.0
    name: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def passed(measured: str, bar: str) -> Outcome:
    return Outcome(True, measured, bar)


def judged(ok: bool, measured: str, bar: str, cause: str) -> Outcome:
    return Outcome(bool(ok), measured, bar, "" if ok else cause)


def skipped(why: str) -> Outcome:
    return Outcome(None, why, "offered by the adapter")


def rel_error(got, want, floor: float = 1e-4) -> float:
    """Largest |got - want| relative to the largest |want| (at least `floor`); inf on a shape mismatch, nan on NaN/Inf."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return float("inf")
    if not np.all(np.isfinite(got)):
        return float("nan")
    return float(np.max(np.abs(got - want), initial=0.0) / max(floor, float(np.max(np.abs(want), initial=0.0))))
