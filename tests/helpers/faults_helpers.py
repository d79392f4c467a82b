"""Helpers for the fault tests: start `tinytorch` as a process that a test can signal, and small inputs."""

from __future__ import annotations

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEXT = "def add(a, b):\n    return a + b\n\nclass Point:\n    x: int = 0\n    y: int = 0\n\n" * 40


def env() -> dict:
    return dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))


def start(*argv, cwd=None, stdout=subprocess.PIPE, stdin=None) -> subprocess.Popen:
    """`python -m tinytorch.cli argv...` started (not waited for), text pipes for stdout and stderr."""
    return subprocess.Popen([sys.executable, "-m", "tinytorch.cli", *map(str, argv)], cwd=cwd, env=env(),
                            stdout=stdout, stderr=subprocess.PIPE, stdin=stdin, text=True)


def run(*argv, cwd=None, timeout: int = 120, input=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinytorch.cli", *map(str, argv)], cwd=cwd, env=env(),
                          capture_output=True, text=True, timeout=timeout, input=input)


def text_file(folder, name: str = "code.txt") -> str:
    path = folder / name
    path.write_text(TEXT, encoding="utf-8")
    return str(path)
