"""Options of the `tinytorch` command itself: --version, and --threads on every subcommand."""

from __future__ import annotations

import importlib.metadata

import pytest

import tinytorch
import tinytorch.runtime.threads
from tinytorch.cli import SUBCOMMANDS, build_parser

from cli_helpers import assert_one_line_error, run_cli, run_subprocess


@pytest.mark.slow  # a fresh interpreter
def test_version_matches_the_package_and_its_metadata():
    done = run_subprocess("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"tinytorch {tinytorch.__version__} (python ")
    assert importlib.metadata.version("tinytorch") == tinytorch.__version__


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_takes_threads(capsys, name):
    code, out, _ = run_cli(capsys, name, "--help")
    assert code == 0 and "--threads N" in out
    code, _, err = run_cli(capsys, name, "--threads", "0")  # parsed (and refused) by the subcommand itself
    assert code == 2
    assert_one_line_error(err, "--threads: expected a positive integer, got '0'")
    assert err.startswith(f"tinytorch {name}: error:")


def test_threads_before_the_subcommand_is_kept():
    parser = build_parser()
    assert parser.parse_args(["--threads", "3", "doctor"]).threads == 3
    assert parser.parse_args(["doctor", "--threads", "2"]).threads == 2
    assert parser.parse_args(["doctor"]).threads is None


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_thread_count_is_one_line_exit_2(capsys, value):
    code, _, err = run_cli(capsys, "doctor", "--threads", value)
    assert code == 2
    assert_one_line_error(err, f"--threads: expected a positive integer, got '{value}'")
    assert tinytorch.runtime.threads.policy().requested is None  # nothing was set
