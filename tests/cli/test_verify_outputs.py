"""`tinytorch verify` checks its output paths before verifying: --write-plan only rewrites a file that already
holds the status markers, and --report must be a folder it can write."""

from __future__ import annotations

import pytest

from cli_helpers import assert_one_line_error, run_subprocess

START, END = "<!-- status:start -->", "<!-- status:end -->"


@pytest.mark.parametrize("content, fragment", [
    ("# My notes\n\nnothing to replace here\n", "does not hold the markers"),
    (f"{START}\nonly the start marker\n", "does not hold the markers"),
    (f"{END}\nend before start\n{START}\n", "in that order"),
])
def test_write_plan_leaves_a_file_without_the_markers_alone(tmp_path, content, fragment):
    notes = tmp_path / "notes.md"
    notes.write_text(content, encoding="utf-8")
    result = run_subprocess("verify", "--only", "gradients", "--write-plan", notes, cwd=tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, str(notes), fragment)
    assert result.stdout == ""  # refused before verifying
    assert notes.read_text(encoding="utf-8") == content


def test_write_plan_does_not_create_a_file(tmp_path):
    result = run_subprocess("verify", "--only", "gradients", "--write-plan", tmp_path / "new.md", cwd=tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "does not exist")
    assert not (tmp_path / "new.md").exists() and result.stdout == ""


@pytest.mark.parametrize("report", ["afile/report", "afile"])
def test_report_folder_is_checked_before_verifying(tmp_path, report):
    (tmp_path / "afile").write_text("not a folder", encoding="utf-8")
    result = run_subprocess("verify", "--only", "gradients", "--report", tmp_path / report, cwd=tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "--report", "not a directory")
    assert result.stdout == ""
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "not a folder"


def test_report_into_a_new_nested_folder_works(tmp_path):
    plan = tmp_path / "PLAN.md"
    plan.write_text(f"intro\n{START}\nOLD STATUS LINE\n{END}\nrest\n", encoding="utf-8")
    result = run_subprocess("verify", "--only", "gradients", "--report", tmp_path / "a" / "b", "--write-plan", plan,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "a" / "b" / "index.html").is_file()
    text = plan.read_text(encoding="utf-8")
    assert text.startswith(f"intro\n{START}\n") and text.endswith(f"{END}\nrest\n") and "OLD STATUS" not in text
