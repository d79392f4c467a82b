"""`tinytorch generate` options, run as a user runs them (a subprocess): samples, prompt files, stop strings, help."""

from __future__ import annotations

import re

import pytest

from tinytorch.cli.generate import SEPARATOR

from cli_helpers import assert_one_line_error, run_subprocess, trained_checkpoint

PROMPT = "def "


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return trained_checkpoint(tmp_path_factory.mktemp("generate-options"), steps=10)[0]


def _generate(checkpoint, *options, stdin=None):
    return run_subprocess("generate", checkpoint, *options, input=stdin)


@pytest.fixture(scope="module")
def greedy(checkpoint):
    """The greedy completion of PROMPT (60 tokens of a char model: 60 characters)."""
    result = _generate(checkpoint, "--prompt", PROMPT, "--temperature", "0", "--max-new-tokens", "60")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(PROMPT) and result.stdout.endswith("\n")
    return result.stdout[len(PROMPT):-1]


SAMPLED = ("--temperature", "1", "--seed", "3", "--max-new-tokens", "60")


@pytest.fixture(scope="module")
def sampled(checkpoint):
    """A seeded sample after PROMPT: varied text (a barely trained model's greedy text is often one character)."""
    result = _generate(checkpoint, "--prompt", PROMPT, *SAMPLED)
    assert result.returncode == 0, result.stderr
    return result.stdout[len(PROMPT):-1]


def test_help_shows_the_defaults(checkpoint):
    result = run_subprocess("generate", "--help")
    assert result.returncode == 0
    entries = re.split(r"\n  (?=-)", result.stdout.split("options:", 1)[1])  # one entry per option
    help_of = {entry.split()[0]: " ".join(entry.split()) for entry in entries if entry.strip()}
    for option, default in [("--num-samples", "1"), ("--max-new-tokens", "200"), ("--temperature", "0.8")]:
        assert f"(default: {default})" in help_of[option], help_of[option]
    assert "'-' for stdin" in help_of["--prompt-file"] and "STRING" in help_of["--stop"]


def test_num_samples_prints_that_many_samples_repeatably(checkpoint):
    options = ("--prompt", PROMPT, "--num-samples", "3", "--max-new-tokens", "30", "--seed", "7")
    first, again = _generate(checkpoint, *options), _generate(checkpoint, *options)
    assert first.returncode == 0, first.stderr
    samples = first.stdout.split("\n" + SEPARATOR + "\n")
    assert len(samples) == 3 and all(s.startswith(PROMPT) for s in samples)
    assert len(set(samples)) == 3  # one random stream: the samples differ
    assert again.stdout == first.stdout


def test_greedy_samples_are_all_the_greedy_completion(checkpoint, greedy):
    result = _generate(checkpoint, "--prompt", PROMPT, "--num-samples", "2", "--temperature", "0",
                       "--max-new-tokens", "60")
    assert result.stdout == f"{PROMPT}{greedy}\n{SEPARATOR}\n{PROMPT}{greedy}\n"


def test_prompt_from_a_file_and_from_stdin(checkpoint, greedy, tmp_path):
    path = tmp_path / "prompt.txt"
    path.write_text(PROMPT, encoding="utf-8")
    options = ("--temperature", "0", "--max-new-tokens", "60")
    from_file = _generate(checkpoint, "--prompt-file", path, *options)
    from_stdin = _generate(checkpoint, "--prompt-file", "-", *options, stdin=PROMPT)
    assert from_file.stdout == from_stdin.stdout == PROMPT + greedy + "\n"


def test_stop_string_ends_the_sample_before_it(checkpoint, sampled):
    stop = sampled[20:22]
    result = _generate(checkpoint, "--prompt", PROMPT, *SAMPLED, "--stop", stop)
    assert result.returncode == 0, result.stderr
    assert result.stdout == PROMPT + sampled[: sampled.find(stop)] + "\n"
    assert len(result.stdout) < len(PROMPT + sampled + "\n")


def test_stop_reads_backslash_n_as_a_newline(checkpoint, sampled):
    assert "\n" in sampled, "the sample should span lines for this test to mean something"
    result = _generate(checkpoint, "--prompt", PROMPT, *SAMPLED, "--stop", "\\n")
    assert result.stdout == PROMPT + sampled[: sampled.index("\n")] + "\n"


def test_a_hugging_face_directory_generates_like_the_checkpoint(checkpoint, greedy, tmp_path):
    exported = run_subprocess("export", checkpoint, tmp_path / "hf")
    assert exported.returncode == 0, exported.stderr
    result = _generate(tmp_path / "hf", "--prompt", PROMPT, "--temperature", "0", "--max-new-tokens", "60")
    assert result.returncode == 0, result.stderr
    assert result.stdout == PROMPT + greedy + "\n"


@pytest.mark.parametrize("options, stdin, fragment", [
    (["--prompt-file", "{missing}"], None, "--prompt-file: no such file"),
    (["--prompt", "x", "--stop", ""], None, "--stop is empty"),
    (["--prompt", "x", "--num-samples", "0"], None, "--num-samples"),
    (["--prompt", "x", "--prompt-file", "-"], None, "not allowed with argument"),
])
def test_bad_options_are_one_line_errors(checkpoint, tmp_path, options, stdin, fragment):
    options = [o.format(missing=tmp_path / "none.txt") for o in options]
    result = _generate(checkpoint, *options, stdin=stdin)
    assert result.returncode == 2 and result.stdout == ""
    assert_one_line_error(result.stderr, fragment)


def test_an_empty_or_missing_prompt_starts_from_a_newline_as_nanogpt(checkpoint):
    """nanoGPT's sample.py starts from "\\n": `--prompt ''`, no prompt and an empty prompt file agree."""
    options = ("--temperature", "0", "--max-new-tokens", "20")
    newline = _generate(checkpoint, "--prompt", "\n", *options)
    assert newline.returncode == 0, newline.stderr
    assert newline.stdout.startswith("\n") and len(newline.stdout) > 2
    for argv, stdin in ((["--prompt", ""], None), ([], None), (["--prompt-file", "-"], "")):
        result = _generate(checkpoint, *argv, *options, stdin=stdin)
        assert result.returncode == 0, result.stderr
        assert result.stdout == newline.stdout
