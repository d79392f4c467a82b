"""The `tinytorch` command: verify, train, generate, export, bench, doctor.

Each subcommand lives in its own module exposing `add_parser(subparsers)` (which registers the
subcommand and sets `func` to its runner) and a `run(args) -> int` exit code. The options every
subcommand shares (`--threads`, `--debug`) are added here, once.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..runtime.allocator import keep_freed_memory
from .errors import OneLineParser, UserError  # noqa: F401  (UserError: the subcommands' one error type)

#: The exit status when the reader of stdout went away (`tinytorch generate ... | head -c 10`): 128 + SIGPIPE,
#: what `yes | head -1` gives for `yes`, so `set -o pipefail` scripts see that the output was cut short.
BROKEN_PIPE_EXIT = 141
SUBCOMMANDS = ("verify", "train", "generate", "export", "bench", "doctor")


def _add_shared_options(parser: argparse.ArgumentParser, default) -> None:
    """--threads and --debug, accepted before the subcommand and after it (`default` is None at the top and
    SUPPRESS on a subcommand, so a value given before the subcommand is not reset by it)."""
    from .common import positive_int

    parser.add_argument("--threads", type=positive_int, metavar="N", default=default,
                        help="numpy BLAS threads for the whole run (default: tinytorch chooses per step: one for "
                             "small models, more only for large ones on free cores; an OPENBLAS_NUM_THREADS or "
                             "OMP_NUM_THREADS in the environment is honoured)")
    parser.add_argument("--debug", action="store_true", default=default, help="show full tracebacks for errors (default: off)")


def _version() -> str:
    import platform

    import numpy

    from .. import __version__
    return f"tinytorch {__version__} (python {platform.python_version()}, numpy {numpy.__version__})"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="tinytorch", description="A numpy deep-learning framework whose transformers demonstrably learn.")
    parser.add_argument("--version", action="version", version=_version())
    _add_shared_options(parser, default=None)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue  # a subcommand not written yet
        module.add_parser(subparsers)
    for subparser in subparsers.choices.values():
        _add_shared_options(subparser, default=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C while starting up (imports, parsing): no traceback
        print("tinytorch: interrupted", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    keep_freed_memory()  # the command owns its process: freed arrays are reused, not page-faulted in again
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from ..runtime.threads import _usable_cores, num_threads

    cores = _usable_cores()
    if args.threads is not None and args.threads > cores:  # more threads than cores only slows BLAS down
        print(f"tinytorch: --threads {args.threads} is more than the {cores} core(s) this process may use; "
              f"using {cores}", file=sys.stderr)
        args.threads = cores
    try:
        with num_threads(args.threads):  # the user's choice for the command (core/threads.py); None: tinytorch's
            return int(args.func(args) or 0)
    except (UserError, FileNotFoundError, ValueError, TypeError) as exc:
        if args.debug:
            raise
        print(f"tinytorch {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tinytorch {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader left (`| head -1`): stop quietly, with the status of a tool SIGPIPE ended
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error again at exit's flush
        return BROKEN_PIPE_EXIT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
