"""Every check the grader runs, in order: its name, the plan section, its time limit, and the quick subset."""

from __future__ import annotations

from dataclasses import dataclass

from .checks_ops import OP_CHECKS


@dataclass(frozen=True)
class Check:
    name: str
    section: str  # the test plan's section (or "gate" for the gates added after it)
    title: str
    run: object  # run(ctx) -> Outcome
    timeout: float = 60.0  # seconds before the parent kills the worker and fails the check
    quick: bool = False  # part of `--quick`


def _checks():
    out = [Check(name, "1.1", f"Autograd operations: {name.split('.')[1]}", fn, 30, True) for name, fn in OP_CHECKS.items()]
    return out


CHECKS = {c.name: c for c in _checks()}
