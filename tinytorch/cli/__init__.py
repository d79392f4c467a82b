"""The `tinytorch` command: verify, train, generate, bench, doctor.

Each subcommand lives in its own module exposing `add_parser(subparsers)` (which registers the
subcommand and sets `func` to its runner) and a `run(args) -> int` exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = ("verify", "train", "generate", "bench", "doctor")


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad option in one stderr line (exit 2) instead of usage plus error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class UserError(Exception):
    """A problem with the user's input (missing file, bad number, incompatible checkpoint): exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="tinytorch", description="A numpy deep-learning framework whose transformers demonstrably learn.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue  # a subcommand not written yet
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (UserError, FileNotFoundError, ValueError, TypeError) as exc:
        if args.debug:
            raise
        print(f"tinytorch {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tinytorch {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
