"""`tinytorch verify`: the test plan's quick validation and every layer, measured, with a verdict.

Exit code 0 when verified, 1 when a layer fails; `--report DIR` writes an HTML page with plots.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import sys
import time

from ..runtime.fileio import atomic_write, check_writable
from .errors import UserError

STATUS_START = "<!-- status:start -->"
STATUS_END = "<!-- status:end -->"


def add_parser(subparsers) -> None:
    from ..experiments.verification import LAYER_KEYS

    p = subparsers.add_parser("verify", help="prove that transformers learn: the test plan's layers, measured",
                              description="Run the test plan's quick validation and each verification layer; "
                                          "exit 1 if any layer fails.")
    p.add_argument("--impl", metavar="DIR|FILE.py", default=None,
                   help="grade another implementation: a folder holding a TinyTorch-layout package tinytorch/, "
                        "or an adapter file (see docs/GRADING.md)")
    p.add_argument("--quick", action="store_true", help="with --impl: the component layer and one learning task")
    p.add_argument("--memory-mb", type=int, default=4096, help="with --impl: the worker's memory limit (default 4096)")
    p.add_argument("--full", action="store_true", help="larger budgets and three seeds per layer (minutes)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--only", metavar="LAYER[,LAYER]", default=None,
                   help=f"run only these layers: {', '.join(LAYER_KEYS)}; with --impl, the checks whose names "
                        f"start with these prefixes (e.g. component,probe.causality)")
    p.add_argument("--report", metavar="DIR", default=None, help="write an HTML report with plots to DIR")
    p.add_argument("--write-plan", metavar="PATH", default=None,
                   help=f"rewrite the status block of a Markdown file that holds {STATUS_START} and {STATUS_END}")
    p.set_defaults(func=run)


def _parse_only(text):
    from ..experiments.verification import LAYER_KEYS

    if text is None:
        return None
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in LAYER_KEYS]
    if unknown or not keys:
        raise UserError(f"--only: unknown layer(s) {unknown or [text]}; choose from {', '.join(LAYER_KEYS)}")
    return keys


def status_block(verification, date: str) -> str:
    """The Markdown written between the plan's status markers."""
    from ..experiments.verification import layer_line, quick_block, verdict_line

    lines = [quick_block(verification.quick, date, verification.quick_error), ""]
    lines += [f"- {layer_line(layer)}" for layer in verification.layers]
    lines += ["", f"{verdict_line(verification)} ({verification.budget.name} run, {verification.seconds:.1f}s)"]
    return "\n".join(lines)


def plan_text(path: str) -> str:
    """The Markdown file's text; UserError unless it exists, is writable and holds both status markers.

    `--write-plan` only ever replaces a status block that is already there: any other file is left alone.
    """
    if not os.path.isfile(path):
        what = "is a directory" if os.path.isdir(path) else "does not exist"
        raise UserError(f"--write-plan: '{path}' {what}; give a Markdown file holding {STATUS_START} and {STATUS_END}")
    try:
        check_writable(path)
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"--write-plan: cannot use '{path}': {exc}") from None
    start, end = text.find(STATUS_START), text.find(STATUS_END)
    if not 0 <= start < end:
        raise UserError(f"--write-plan: '{path}' does not hold the markers {STATUS_START} ... {STATUS_END} in "
                        f"that order; add them where the status block goes (the file was not changed)")
    return text


def write_status(path: str, block: str) -> None:
    """Replace the text between the status markers of `path`, atomically."""
    text = plan_text(path)  # read again: the file may have changed while verify ran
    start, end = text.find(STATUS_START), text.find(STATUS_END)
    atomic_write(path, f"{text[:start]}{STATUS_START}\n{block}\n{STATUS_END}{text[end + len(STATUS_END):]}")


def check_report_folder(path: str) -> None:
    """UserError unless `path` is, or can be made as, a writable folder (checked before verifying)."""
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise UserError(f"--report: '{existing}' exists and is not a directory")
    try:
        check_writable(os.path.join(existing, "index.html"))
    except ValueError as exc:
        raise UserError(f"--report: {exc}") from None


def run_impl(args) -> int:
    """`--impl`: the test plan as a grader of another implementation (tinytorch.grading)."""
    from ..grading.cli_output import run_grader

    if args.impl is None:
        raise UserError("--quick grades an implementation: give --impl DIR or --impl FILE.py")
    unused = [flag for flag, value in (("--full", args.full), ("--report", args.report), ("--write-plan", args.write_plan))
              if value]
    if unused:
        raise UserError(f"{', '.join(unused)} cannot be combined with --impl")
    if args.seed < 0 or args.memory_mb < 256:
        raise UserError(f"--seed must be >= 0 and --memory-mb >= 256, got {args.seed} and {args.memory_mb}")
    try:
        return run_grader(args.impl, quick=args.quick, only=args.only, seed=args.seed, memory_mb=args.memory_mb,
                          out=lambda line: print(line, flush=True))
    except ValueError as exc:
        raise UserError(str(exc)) from None


def run(args) -> int:
    from ..experiments.verification import FULL, QUICK, layer_line, quick_block, run_verification, verdict_line

    if args.impl is not None or args.quick:
        return run_impl(args)
    only = _parse_only(args.only)
    if args.seed < 0:
        raise UserError(f"--seed must be >= 0, got {args.seed}")
    if args.report:
        check_report_folder(args.report)
    if args.write_plan:
        plan_text(args.write_plan)
    base = FULL if args.full else QUICK
    budget = dataclasses.replace(base, seeds=tuple(args.seed + i for i in range(len(base.seeds))))
    date = datetime.date.today().isoformat()
    start = time.perf_counter()

    def on_quick(v):
        print(quick_block(v.quick, date, v.quick_error), flush=True)
        print(flush=True)

    def on_layer(layer):
        print(layer_line(layer), flush=True)

    verification = run_verification(budget, only, on_quick=on_quick, on_layer=on_layer, raise_errors=args.debug)
    hint = "" if args.full else "; --full for larger budgets and three seeds"
    print(f"\nTotal time: {time.perf_counter() - start:.1f}s ({budget.name} run{hint})", flush=True)
    print(verdict_line(verification), flush=True)
    if args.report:
        from ..report import write_report

        page = write_report(verification, args.report)
        print(f"report: {page}", file=sys.stderr)
    if args.write_plan:
        write_status(args.write_plan, status_block(verification, date))
        print(f"status written to {args.write_plan}", file=sys.stderr)
    return 0 if verification.verified else 1
