"""`tinytorch train` as a log reads it: one plain line per evaluation, a CSV loss history, a quiet `| head -1`,
Ctrl-C that saves everything, a one-line out-of-memory hint, and nanoGPT-style shape overrides."""

from __future__ import annotations

import csv
import os
import re
import resource
import signal
import subprocess
import sys
import threading

import pytest

from tinytorch.training.checkpoint import load_checkpoint

from cli_helpers import REPO, assert_one_line_error, code_text, run_subprocess

EVAL_LINE = re.compile(r"step (\d+)/(\d+): train loss \d+\.\d{3} \(\d+\.\d{3} bpc\), "
                       r"val loss \d+\.\d{3} \(\d+\.\d{3} bpc\), lr \d\.\de-\d\d, [\d,]+ tok/s, \d+\.\d s")


def popen(*argv, cwd, **kwargs) -> subprocess.Popen:
    """`python -m tinytorch.cli argv...` with stdout and stderr piped (not a terminal)."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "tinytorch.cli", *map(str, argv)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """One 12-step run evaluated every 4 steps, its output piped."""
    folder = tmp_path_factory.mktemp("logs")
    data = code_text(folder / "code.txt")
    result = run_subprocess("train", "--data", data, "--out", folder / "m.safetensors", "--steps", "12",
                            "--eval-every", "4", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder, result


def test_piped_output_has_one_plain_line_per_evaluation_and_no_bar(logged):
    _, result = logged
    lines = [m.groups() for m in map(EVAL_LINE.fullmatch, result.stdout.splitlines()) if m]
    assert lines == [("4", "12"), ("8", "12"), ("12", "12")]
    assert "\r" not in result.stdout + result.stderr and "it/s" not in result.stderr  # no progress bar
    assert result.stderr == ""


def test_loss_history_is_written_next_to_the_checkpoint(logged):
    folder, _ = logged
    with open(folder / "m.loss.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    history = load_checkpoint(folder / "m.safetensors", restore_rng=False)["extra"]["trainer"]["history"]
    assert [int(r["step"]) for r in rows] == list(range(1, 13))
    assert [float(r["train_loss"]) for r in rows] == history["train_loss"]
    assert [float(r["lr"]) for r in rows] == history["learning_rates"]
    assert [(int(r["step"]), float(r["val_loss"])) for r in rows if r["val_loss"]] == \
        list(zip(history["val_step"], history["val_loss"]))
    times = [float(r["time"]) for r in rows]
    assert times == sorted(times) and times[0] >= 0
    assert (folder / "m.loss.png").read_bytes()[:4] == b"\x89PNG"


def test_a_closed_pipe_ends_quietly(tmp_path):
    data = code_text(tmp_path / "code.txt")
    proc = popen("train", "--data", data, "--out", tmp_path / "m.safetensors", "--steps", "200", "--eval-every", "1",
                 cwd=tmp_path)
    first = proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    stderr = proc.stderr.read()
    proc.wait(timeout=120)
    assert first.startswith("training a GPT of")
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert proc.returncode == 141  # 128 + SIGPIPE, as tools SIGPIPE ends


def test_ctrl_c_saves_checkpoint_log_and_plot_and_says_how_to_resume(tmp_path):
    data = code_text(tmp_path / "code.txt")
    out = tmp_path / "m.safetensors"
    proc = popen("train", "--data", data, "--out", out, "--steps", "3000", "--eval-every", "5", cwd=tmp_path)
    hang_guard = threading.Timer(240, proc.kill)
    hang_guard.start()
    try:
        line = ""
        while not EVAL_LINE.fullmatch(line.strip()):
            line = proc.stdout.readline()
            assert line, "no evaluation line before the end of the output"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        hang_guard.cancel()
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert f"--resume {out}" in stdout and "interrupted at step" in stdout
    step = load_checkpoint(out, restore_rng=False)["step"]
    assert step >= 5
    with open(tmp_path / "m.loss.csv") as f:
        assert len(f.read().splitlines()) == step + 1  # header and one row per step
    assert (tmp_path / "m.loss.png").is_file()


@pytest.mark.parametrize("argv, fragments", [
    (["--batch-size", "100000"], ("GiB to train", "--batch-size 100000", "is available", "--batch-size")),
    (["--n-embd", "8192", "--n-layer", "8"], ("GiB to train", "is available", "lower --n-embd")),
])
def test_out_of_memory_is_one_line_naming_the_setting(tmp_path, argv, fragments):
    data = code_text(tmp_path / "code.txt")

    def limit_memory():  # 1 GiB of address space: neither 100000 windows nor 8 blocks 8192 wide fit
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    proc = popen("train", "--data", data, "--out", tmp_path / "m.safetensors", *argv, "--steps", "2", cwd=tmp_path,
                 preexec_fn=limit_memory)
    _, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 2  # refused from the estimate, before the model is built
    assert_one_line_error(stderr, *fragments)


def test_shape_overrides_on_top_of_the_size(tmp_path):
    data = code_text(tmp_path / "code.txt")
    out = tmp_path / "m.safetensors"
    result = run_subprocess("train", "--data", data, "--out", out, "--size", "small", "--n-layer", "1", "--n-head", "2",
                            "--n-embd", "16", "--block-size", "32", "--dropout", "0.2", "--steps", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    model = load_checkpoint(out, restore_rng=False)["config"]["model"]
    assert (model["n_layer"], model["n_head"], model["n_embd"], model["block_size"], model["dropout"]) == \
        (1, 2, 16, 32, 0.2)
    resumed = run_subprocess("train", "--data", data, "--resume", out, "--n-layer", "3", "--steps", "4", cwd=tmp_path)
    assert resumed.returncode == 2
    assert_one_line_error(resumed.stderr, "--n-layer 1, not 3")


@pytest.mark.parametrize("argv, fragments", [
    (["--n-embd", "30", "--n-head", "4"], ("not divisible", "30", "--n-head", "--n-embd")),
    (["--dropout", "1.5"], ("dropout", "1.5", "--dropout")),
    (["--n-layer", "0"], ("--n-layer",)),
    (["--block-size", "x"], ("--block-size",)),
])
def test_bad_shape_overrides_are_one_line_before_training(tmp_path, argv, fragments):
    data = code_text(tmp_path / "code.txt")
    result = run_subprocess("train", "--data", data, *argv, "--steps", "2", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert_one_line_error(result.stderr, *fragments)
    assert os.listdir(tmp_path) == ["code.txt"]  # nothing written


def test_help_shows_single_percent_signs():
    result = run_subprocess("train", "--help")
    assert result.returncode == 0
    assert "90% of it trains" in " ".join(result.stdout.split()) and "%%" not in result.stdout
