"""`tinytorch train` as a nanoGPT user types it: the nanogpt preset, the optimizer and schedule knobs with their
defaults in --help, nanoGPT's spellings, runs named by their shape, bits per character, resuming without
--data, and a -best file without optimizer state."""

from __future__ import annotations

import csv
import math
import os
import re

import numpy as np
import pytest

from tinytorch.cli.train_settings import PRESETS, preset_for
from tinytorch.training.checkpoint import load_checkpoint
from tinytorch.training import TrainConfig

from cli_helpers import assert_one_line_error, code_text, run_cli, run_subprocess

FAST = ("--max-iters", "4", "--eval-interval", "2", "--batch-size", "4")
KNOBS = ("--weight-decay", "--beta1", "--beta2", "--warmup-iters", "--min-lr", "--grad-clip", "--eval-iters",
         "--max-iters", "--learning-rate", "--batch-size", "--n-layer", "--n-head", "--n-embd", "--block-size")


def _help_entries(text: str) -> dict:
    """{option: its help text} from argparse's --help output."""
    entries, current = {}, None
    for line in text.splitlines():
        m = re.match(r"\s{2}(-[-\w]+)(.*)", line)
        if m:
            current = m.group(1)
            entries[current] = m.group(2)
        elif current and line.startswith(" " * 10):
            entries[current] += " " + line.strip()
    return {k: " ".join(v.split()) for k, v in entries.items()}


def test_nanogpt_preset_is_nanogpts_cpu_recipe():
    model, train = PRESETS["nanogpt"].model, PRESETS["nanogpt"].train
    assert (model.n_layer, model.n_head, model.n_embd, model.block_size, model.dropout) == (4, 4, 128, 64, 0.0)
    assert (train.batch_size, train.learning_rate, train.max_iters, train.warmup_iters, train.min_lr) == \
        (12, 1e-3, 2000, 100, 1e-4)
    assert (train.beta1, train.beta2, train.weight_decay, train.weight_decay_on, train.grad_clip) == \
        (0.9, 0.99, 0.1, "matrices", 1.0)
    assert train.decay_lr and train.optimizer == "adamw"


def test_the_texts_size_picks_the_preset():
    assert [preset_for(n) for n in (10, 99_999, 100_000, 999_999, 1_115_394)] == \
        ["tiny", "tiny", "small", "small", "nanogpt"]


def test_every_option_states_its_default_and_the_knobs_exist():
    result = run_subprocess("train", "--help")
    assert result.returncode == 0
    entries = _help_entries(result.stdout)
    assert set(KNOBS) <= set(entries)
    missing = [o for o, text in entries.items() if o not in ("-h", "--help") and "default" not in text]
    assert missing == []
    assert "(default 0.1)" in entries["--weight-decay"] and "(default 0.99)" in entries["--beta2"]
    assert "nanogpt 2000" in entries["--max-iters"] and "nanogpt 100" in entries["--warmup-iters"]


def test_knobs_reach_the_checkpoint(tmp_path):
    data = code_text(tmp_path / "code.txt")
    out = tmp_path / "m.safetensors"
    result = run_subprocess("train", "--data", data, "--out", out, *FAST, "--weight-decay", "0.05", "--beta2", "0.95",
                            "--warmup-iters", "1", "--min-lr", "1e-4", "--grad-clip", "0.5", "--eval-iters", "2",
                            "--learning-rate", "2e-3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    meta = load_checkpoint(out, restore_rng=False)
    settings = TrainConfig.from_dict(meta["config"]["train"]["settings"])
    assert (settings.weight_decay, settings.beta2, settings.warmup_iters, settings.min_lr, settings.grad_clip,
            settings.eval_iters, settings.learning_rate, settings.max_iters) == (0.05, 0.95, 1, 1e-4, 0.5, 2, 2e-3, 4)
    assert meta["optimizer"]["hyperparameters"]["betas"] == [0.9, 0.95]
    lrs = meta["extra"]["trainer"]["history"]["learning_rates"]
    assert lrs[0] == pytest.approx(2e-3) and lrs[-1] < 2e-3  # warmup of 1 step, then the cosine


def test_nanogpt_spellings_work_and_others_get_a_did_you_mean(tmp_path):
    data = code_text(tmp_path / "code.txt")
    out = tmp_path / "m.safetensors"
    result = run_subprocess("train", "--data", data, "--out", out, "--n_layer=2", "--n_head", "2", "--n_embd=16",
                            "--block_size", "32", "--max_iters=4", "--batch_size", "4", "--learning_rate=2e-3",
                            "--eval_interval", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    model = load_checkpoint(out, restore_rng=False)["config"]["model"]
    assert (model["n_layer"], model["n_head"], model["n_embd"], model["block_size"]) == (2, 2, 16, 32)
    typo = run_subprocess("train", "--data", data, "--n_layr=2", cwd=tmp_path)
    assert typo.returncode == 2
    assert_one_line_error(typo.stderr, "--n_layr", "did you mean --n-layer?")
    other = run_subprocess("train", "--data", data, "--lr_decay_iters", "5", cwd=tmp_path)
    assert other.returncode == 2
    assert_one_line_error(other.stderr, "--lr_decay_iters", "--max-iters")


def test_runs_are_named_by_shape_and_never_reuse_a_name(tmp_path):
    data = code_text(tmp_path / "notes.txt")
    for _ in range(2):
        result = run_subprocess("train", "--data", data, *FAST, "--n-layer", "2", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    names = sorted(n for n in os.listdir(tmp_path / "runs") if n.endswith(".safetensors") and "-best" not in n)
    assert names == ["notes-L2-E32-H4-T64-char-2.safetensors", "notes-L2-E32-H4-T64-char.safetensors"]
    assert "tiny GPT" not in result.stdout


def test_bits_per_character_in_the_line_the_csv_and_the_summary(tmp_path):
    data = code_text(tmp_path / "code.txt")
    out = tmp_path / "m.safetensors"
    result = run_subprocess("train", "--data", data, "--out", out, *FAST, "--tokenizer", "bpe", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    meta = load_checkpoint(out, restore_rng=False)
    ratio = meta["config"]["train"]["chars_per_token"]
    assert ratio > 1.2  # BPE: several characters per token
    with open(tmp_path / "m.loss.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        assert float(row["train_bpc"]) == pytest.approx(float(row["train_loss"]) / math.log(2) / ratio, abs=1e-4)
    last = [r for r in rows if r["val_loss"]][-1]
    val_bpc = float(last["val_loss"]) / math.log(2) / ratio
    assert float(last["val_bpc"]) == pytest.approx(val_bpc, abs=1e-4)
    assert f"val loss {float(last['val_loss']):.3f} ({val_bpc:.3f} bpc)" in result.stdout
    summary = [line for line in result.stdout.splitlines() if line.startswith("step 4:")][0]
    assert f"validation loss {float(last['val_loss']):.3f} ({val_bpc:.3f} bpc" in summary
    # one train loss: the summary's is the last evaluation line's (the mean since the previous evaluation)
    line_train = re.search(r"step 4/4: train loss (\d+\.\d+)", result.stdout).group(1)
    assert f"train loss {line_train} " in summary
    mean = np.mean([float(r["train_loss"]) for r in rows[2:4]])
    assert float(line_train) == pytest.approx(mean, abs=5e-4)


def test_char_bpc_is_loss_over_ln2(tmp_path):
    data = code_text(tmp_path / "code.txt")
    result = run_subprocess("train", "--data", data, "--out", tmp_path / "m.safetensors", *FAST, cwd=tmp_path)
    m = re.search(r"val loss (\d+\.\d+) \((\d+\.\d+) bpc\)", result.stdout)
    assert float(m.group(2)) == pytest.approx(float(m.group(1)) / math.log(2), abs=2e-3)


def test_resume_needs_no_data_keeps_the_time_column_and_says_what_changed(tmp_path):
    data = code_text(tmp_path / "code.txt")
    out = tmp_path / "m.safetensors"
    first = run_subprocess("train", "--data", data, "--out", out, *FAST, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    resumed = run_subprocess("train", "--resume", out, "--max-iters", "8", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"training text: '{data}'" in resumed.stdout
    assert "change the learning rate at step 4" in resumed.stdout
    with open(tmp_path / "m.loss.csv", newline="") as f:
        times = [r["time"] for r in csv.DictReader(f)]
    assert len(times) == 8 and all(times)
    assert [float(t) for t in times] == sorted(float(t) for t in times)
    with open(data, "a", encoding="utf-8") as f:
        f.write("\n# one more line\n")
    again = run_subprocess("train", "--resume", out, "--max-iters", "10", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "changed since the checkpoint was written" in again.stdout


def test_best_file_holds_what_sampling_needs_and_no_optimizer_state(tmp_path):
    data = code_text(tmp_path / "code.txt")
    out = tmp_path / "m.safetensors"
    result = run_subprocess("train", "--data", data, "--out", out, *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    best = tmp_path / "m-best.safetensors"
    meta = load_checkpoint(best, restore_rng=False)
    assert meta["optimizer"] is None and meta["tokenizer"] and meta["model_config"] is not None
    assert not any(k.startswith("optim.") for k in meta["shapes"])
    assert os.path.getsize(best) < 0.5 * os.path.getsize(out)
    assert f"tinytorch generate {best} --prompt ''" in result.stdout
    sample = run_subprocess("generate", best, "--max-new-tokens", "5", "--seed", "0")
    assert sample.returncode == 0, sample.stderr
    refused = run_subprocess("train", "--resume", best, "--max-iters", "8", cwd=tmp_path)
    assert refused.returncode == 2
    assert_one_line_error(refused.stderr, "sampling and export only", str(out))
