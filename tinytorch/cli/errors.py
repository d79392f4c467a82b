"""How the command reports a problem: one stderr line and exit code 2, never a traceback."""

from __future__ import annotations

import argparse
import sys


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad option in one stderr line (exit 2) instead of usage plus error.

    nanoGPT's spellings work: `--max_iters 5` and `--n_layer=4` are read as `--max-iters`, `--n-layer`. An
    unknown option gets a "did you mean" from this parser's options, or from `spelling_hints` (an option
    name -> what to type instead) that a subcommand may set.
    """

    spelling_hints: dict = {}

    def parse_known_args(self, args=None, namespace=None):
        args = [self._hyphenated(a) for a in (sys.argv[1:] if args is None else args)]
        namespace, extras = super().parse_known_args(args, namespace)
        unknown = [a for a in extras if a.startswith("--")]
        if unknown:
            self.error(self._did_you_mean(unknown[0].split("=", 1)[0]))
        return namespace, extras

    def _hyphenated(self, arg: str) -> str:
        """'--max_iters=5' -> '--max-iters=5' when this parser knows '--max-iters'; other arguments unchanged."""
        if not arg.startswith("--") or "_" not in arg.split("=", 1)[0]:
            return arg
        name, sep, value = arg.partition("=")
        spelled = name.replace("_", "-")
        return spelled + sep + value if spelled in self._option_string_actions else arg

    def _did_you_mean(self, option: str) -> str:
        import difflib

        spelled = option.replace("_", "-")
        if spelled in self.spelling_hints:
            return f"unrecognized argument {option}: use {self.spelling_hints[spelled]}"
        close = difflib.get_close_matches(spelled, [o for o in self._option_string_actions if o.startswith("--")], n=1)
        return f"unrecognized argument {option}" + (f"; did you mean {close[0]}?" if close else "")

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class UserError(Exception):
    """A problem with the user's input (missing file, bad number, incompatible checkpoint): exit code 2."""
