"""The installed command in a fresh process: user errors are one stderr line and exit 2; `--debug` shows the traceback."""

from __future__ import annotations

import pytest

from cli_helpers import assert_one_line_error, code_text, run_subprocess


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--data", "missing.txt"], "no such file"),
    (["generate", "missing.safetensors", "--prompt", "x"], "no such checkpoint"),
    (["doctor", "missing.safetensors"], "no such checkpoint"),
    (["train", "--data", "{text}", "--steps", "-5"], "--steps"),
])
def test_user_error_is_one_line_and_exit_2(tmp_path, argv, fragment):
    text = code_text(tmp_path / "t.txt")
    result = run_subprocess(*[a.format(text=text) for a in argv], cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert_one_line_error(result.stderr, fragment)


def test_debug_shows_the_traceback(tmp_path):
    result = run_subprocess("--debug", "train", "--data", "missing.txt", cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback (most recent call last)" in result.stderr
    assert "UserError" in result.stderr and "no such file" in result.stderr


def test_verify_subprocess_exit_code_and_last_line(tmp_path):
    result = run_subprocess("verify", "--only", "gradients,convergence", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().splitlines()[-1] == "Transformer learning: ✅ VERIFIED"


def test_no_subcommand_prints_help_and_exits_2(tmp_path):
    result = run_subprocess(cwd=tmp_path)
    assert result.returncode == 2
    for name in ("verify", "train", "generate", "doctor"):
        assert name in result.stdout
