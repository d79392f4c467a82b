"""`tinytorch verify --impl DIR|FILE.py [--quick]` as a user runs it."""

from __future__ import annotations

import pytest

from cli_helpers import REPO, run_subprocess


def test_quick_grade_of_tinytorch_passes_and_says_verified():
    result = run_subprocess("verify", "--impl", REPO, "--quick")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "Transformer learning: ✅ VERIFIED"
    assert any(line.startswith("✅ 1.2 component.attention:") for line in lines)
    assert "❌" not in result.stdout


def test_a_buggy_implementation_fails_with_the_check_and_its_cause(tmp_path):
    pytest.importorskip("torch")
    adapter = tmp_path / "no_positions.py"
    adapter.write_text("from tinytorch_grader.adapters.pytorch_mutants import MUTANTS\n\n"
                       "ADAPTER = MUTANTS['positions_not_added']()\n")
    result = run_subprocess("verify", "--impl", adapter, "--only", "probe.position,component.linear")
    assert result.returncode == 1
    assert "❌ gate probe.position:" in result.stdout
    assert "likely cause: Check Architecture: all 10 positions give the same logits" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith(
        "Transformer learning: ❌ NOT VERIFIED: 1 of 2 checks failed (probe.position)")


def test_bad_impl_is_a_one_line_error(tmp_path):
    result = run_subprocess("verify", "--impl", tmp_path / "nothing.py")
    assert result.returncode != 0
    assert "no such folder or .py adapter file" in result.stderr
    assert "Traceback" not in result.stderr


def test_quick_without_impl_and_impl_with_full_are_errors(tmp_path):
    assert "give --impl" in run_subprocess("verify", "--quick").stderr
    assert "cannot be combined with --impl" in run_subprocess("verify", "--impl", REPO, "--full").stderr
