"""The copilot milestone script as a user runs it: the plan's full-pipeline run, resuming, bad input.

`python milestones/05_2017_transformer/vaswani_copilot.py --train-only` must finish in under three
minutes with a loss decrease above 80% (layer 5.1). Bad input gives one line on stderr, exit 2,
and writes nothing.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import time

import pytest

from integration_helpers import SCRIPT, run_script
from tinytorch.training.checkpoint import save_checkpoint
from tinytorch.optim.optimizers import AdamW
from tinytorch.text.tokenization import CharTokenizer
from tinytorch.nn.transformer import GPT
from tinytorch.data.python_snippets import SNIPPETS
from tinytorch.experiments.copilot import COPILOT_MODEL, COPILOT_TRAIN, load_copilot

SENTINEL = b"an older checkpoint that must survive a failed run"


def decrease_of(stdout: str) -> float:
    match = re.search(r"decrease (-?[\d.]+)%", stdout)
    assert match, f"no decrease reported in:\n{stdout}"
    return float(match.group(1)) / 100


def assert_bad_input(proc, pattern):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(pattern, lines[0]), proc.stderr
    assert lines[0].startswith("vaswani_copilot.py: error: ")
    assert "Traceback" not in proc.stderr


@pytest.fixture
def sentinel(tmp_path):
    path = tmp_path / "existing.safetensors"
    path.write_bytes(SENTINEL)
    return path


@pytest.mark.slow
def test_default_train_only_run(default_run, record_property):
    proc, seconds, checkpoint = default_run
    record_property("seconds", round(seconds, 1))
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    decrease = decrease_of(proc.stdout)
    print(f"\ndefault --train-only: {seconds:.1f}s, decrease {decrease:.1%}")
    record_property("decrease", decrease)
    assert decrease > 0.80
    assert seconds < 180
    assert "initial loss" in proc.stdout and "final loss" in proc.stdout
    assert checkpoint.is_file() and f"checkpoint saved to {checkpoint}" in proc.stdout
    assert "training" in proc.stderr  # the progress bar


def test_short_run_completes_held_out_prompts(tmp_path):
    checkpoint = tmp_path / "short.safetensors"
    proc = run_script("--steps", 4, "--seed", 1, "--checkpoint", checkpoint)
    assert proc.returncode == 0, proc.stderr[-2000:]
    decrease_of(proc.stdout)
    assert "Held-out completions" in proc.stdout
    assert len(re.findall(r"^\[(valid|INVALID)\] ", proc.stdout, re.M)) == 5
    assert re.search(r"^Training prompts: \d+% of 45 completions parse as Python", proc.stdout, re.M)
    assert ">>> " not in proc.stdout  # stdin is not a terminal: no interactive loop
    assert load_copilot(checkpoint).trainer.step == 4


def test_short_train_only_run_passes(tmp_path):
    checkpoint = tmp_path / "short.safetensors"
    proc = run_script("--train-only", "--steps", 160, "--checkpoint", checkpoint)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert decrease_of(proc.stdout) > 0.80
    assert "trained 160 steps" in proc.stdout and checkpoint.is_file()


def test_train_only_fails_below_the_decrease_and_writes_nothing(sentinel):
    proc = run_script("--train-only", "--steps", 2, "--checkpoint", sentinel)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert decrease_of(proc.stdout) <= 0.80 and "FAILED" in proc.stdout
    assert sentinel.read_bytes() == SENTINEL


def test_resume_continues_from_the_checkpoint(default_run, tmp_path):
    _, _, checkpoint = default_run
    out = tmp_path / "resumed.safetensors"
    proc = run_script("--train-only", "--resume", checkpoint, "--steps", 3, "--checkpoint", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    steps = load_copilot(checkpoint).trainer.step
    assert f"resumed from step {steps}" in proc.stdout
    assert load_copilot(out).trainer.step == steps + 3


@pytest.mark.parametrize("args, pattern", [
    (["--steps", "0"], r"--steps must be >= 1, got 0"),
    (["--steps", "-5"], r"--steps must be >= 1, got -5"),
    (["--steps", "1e3"], r"--steps must be a whole number, got '1e3'"),
    (["--seed", "-1"], r"--seed must be >= 0, got -1"),
    (["--seed", "x"], r"--seed must be a whole number"),
    (["--resume", "no/such/file.safetensors"], r"--resume: no checkpoint file at 'no/such/file.safetensors'"),
    (["--frobnicate"], r"unrecognized arguments: --frobnicate"),
])
def test_bad_input_is_one_line_and_exit_2(args, pattern, sentinel):
    proc = run_script("--train-only", *args, "--checkpoint", sentinel, timeout=60)
    assert_bad_input(proc, pattern)
    assert sentinel.read_bytes() == SENTINEL


def test_checkpoint_of_another_model_shape(tmp_path, sentinel):
    """Copilot metadata over a GPT of another width: refused before anything is trained or written."""
    tokenizer = CharTokenizer().build_vocab(SNIPPETS)
    claimed = dataclasses.replace(COPILOT_MODEL, vocab_size=tokenizer.vocab_size, n_embd=COPILOT_MODEL.n_embd * 2)
    model = GPT(tokenizer.vocab_size, 32, 1, 4, max_seq_len=claimed.block_size)
    other = tmp_path / "other_shape.safetensors"
    save_checkpoint(other, model, AdamW(model.parameters()), config={"model": claimed.to_dict(), "train": COPILOT_TRAIN.to_dict()},
                    tokenizer=tokenizer,
                    extra={"experiment": "copilot", "seed": 0, "initial_loss": 4.0,
                           "trainer": {"step": 0, "epoch": 0, "history": {"train_loss": [], "val_loss": [],
                                                                        "val_step": [], "learning_rates": []}}})
    proc = run_script("--resume", other, "--checkpoint", sentinel, timeout=60)
    assert_bad_input(proc, r"--resume: .*other_shape.safetensors': the config claims num_layers 2 but the file holds 1")
    assert sentinel.read_bytes() == SENTINEL

    plain = tmp_path / "plain.safetensors"  # a tinytorch checkpoint, but not of a copilot
    save_checkpoint(plain, model)
    assert_bad_input(run_script("--resume", plain, "--checkpoint", sentinel, timeout=60),
                     r"--resume: .*not a copilot one")


def test_resumed_run_keeps_its_seed(default_run, sentinel):
    _, _, checkpoint = default_run
    proc = run_script("--resume", checkpoint, "--seed", 7, "--checkpoint", sentinel, timeout=60)
    assert_bad_input(proc, r"--seed 7 differs from the checkpoint's seed 0")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_interactive_prompt_maps_unknown_characters_to_unk(default_run, tmp_path):
    """On a terminal the script completes typed prompts; an unknown character warns and becomes <UNK>."""
    import pty

    _, _, checkpoint = default_run
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, str(SCRIPT), "--resume", str(checkpoint), "--steps", "1",
                                 "--checkpoint", str(tmp_path / "out.safetensors")],
                                cwd=SCRIPT.parents[2], stdin=slave, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        os.close(slave)
        os.write(master, "caf\u00e9 = 1\\nx = \n\n".encode())
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        os.close(master)
    assert proc.returncode == 0, stderr[-2000:]
    assert ">>> " in stdout
    assert re.search(r"^>>> \[(valid|INVALID)\] caf\u00e9 = 1\n    x = ", stdout, re.M), stdout
    assert re.search(r"^warning: .*<UNK>.*'\u00e9'", stderr, re.M), stderr
    assert "Traceback" not in stderr
