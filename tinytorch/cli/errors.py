"""How the command reports a problem: one stderr line and exit code 2, never a traceback."""

from __future__ import annotations

import argparse


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad option in one stderr line (exit 2) instead of usage plus error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class UserError(Exception):
    """A problem with the user's input (missing file, bad number, incompatible checkpoint): exit code 2."""
