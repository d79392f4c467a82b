"""Helpers for the CLI tests: run `tinytorch` in-process or as a subprocess, and make small inputs."""

from __future__ import annotations

import os
import subprocess
import sys

from tinytorch.cli import main
from tinytorch.data.python_snippets import SNIPPETS

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `tinytorch argv...` run in this process."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own exits (bad option values)
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def run_subprocess(*argv, cwd=None, timeout: int = 240, input: str | None = None) -> subprocess.CompletedProcess:
    """`python -m tinytorch.cli argv...` in a fresh interpreter, with `input` (if any) on its stdin."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "tinytorch.cli", *map(str, argv)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, input=input)


def code_text(path, repeats: int = 3) -> str:
    """Write the bundled Python snippets, `repeats` times, as a training text (about 6 KB); returns the path."""
    text = "\n\n".join(list(SNIPPETS) * repeats)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return str(path)


def assert_one_line_error(err: str, *fragments: str) -> None:
    """stderr is exactly one line naming the problem, with no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}:\n{err}"
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


def trained_checkpoint(folder, steps: int):
    """Train a small model with `tinytorch train` on code text in `folder`; return (checkpoint, data path)."""
    from tinytorch.cli import main

    data = code_text(folder / "code.txt")
    out = folder / "model.safetensors"
    assert main(["train", "--data", data, "--steps", str(steps), "--out", str(out), "--no-progress"]) == 0
    return out, data
