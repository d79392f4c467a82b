"""`tinytorch verify --impl`: grade an implementation and print each check as it finishes, then the verdict."""

from __future__ import annotations

import time

from .registry import CHECKS


def select(quick: bool, only: str | None) -> list:
    """The checks to run: all, the quick subset, or those whose names start with one of `only`'s prefixes."""
    checks = [c for c in CHECKS.values() if c.quick or not quick]
    if only:
        prefixes = [p.strip() for p in only.split(",") if p.strip()]
        unknown = [p for p in prefixes if not any(c.name.startswith(p) for c in CHECKS.values())]
        if unknown or not prefixes:
            raise ValueError(f"--only: no check starts with {unknown or [only]}; checks: {', '.join(CHECKS)}")
        checks = [c for c in CHECKS.values() if any(c.name.startswith(p) for p in prefixes)]
    return checks


def outcome_lines(check, outcome) -> list:
    mark = {True: "✅", False: "❌", None: "➖"}[outcome.passed]
    lines = [f"{mark} {check.section} {check.name}: {outcome.measured} (bar: {outcome.bar}) [{outcome.seconds:.1f}s]"]
    if outcome.passed is False and outcome.cause:
        lines.append(f"     likely cause: {outcome.cause}")
    return lines


def verdict_line(outcomes: list) -> str:
    failed = [o.name for o in outcomes if o.passed is False]
    if outcomes and not failed:
        return "Transformer learning: ✅ VERIFIED"
    return f"Transformer learning: ❌ NOT VERIFIED: {len(failed)} of {len(outcomes)} checks failed ({', '.join(failed)})"


def run_grader(impl: str, quick: bool = False, only: str | None = None, seed: int = 0, memory_mb: int = 4096,
               out=print) -> int:
    """Grade `impl` (a folder or an adapter file), printing as it goes; the exit code (0 only when all pass)."""
    from .data import grading_data
    from .runner import grade, resolve_impl

    resolve_impl(impl)  # a bad --impl fails before anything runs
    checks = select(quick, only)
    start = time.perf_counter()
    out(f"Grading {impl} against the test plan: {len(checks)} checks{' (quick)' if quick else ''}, "
        f"each in a worker process with a time limit and {memory_mb} MB of memory")
    outcomes = grade(impl, checks, seed=seed, data=grading_data(seed), quick=quick, memory_mb=memory_mb,
                     on_ready=lambda what: out(f"implementation: {what}") if what else None,
                     on_outcome=lambda check, outcome: [out(line) for line in outcome_lines(check, outcome)])
    skipped = sum(o.passed is None for o in outcomes)
    passed = sum(o.passed is True for o in outcomes)
    out(f"\n{passed} passed, {len(outcomes) - passed - skipped} failed, {skipped} skipped; total time "
        f"{time.perf_counter() - start:.1f}s{' (quick run; drop --quick for every check)' if quick else ''}")
    out(verdict_line(outcomes))
    return 0 if outcomes and all(o.passed is not False for o in outcomes) else 1
