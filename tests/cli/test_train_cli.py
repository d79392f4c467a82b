"""`tinytorch train`: trains, validates, checkpoints atomically, draws the loss curve, resumes; user errors exit 2."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from tinytorch.training.checkpoint import load_checkpoint
from tinytorch.cli.common import load_model

from cli_helpers import assert_one_line_error, code_text, run_cli


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny char-level model trained 40 steps on the bundled snippets (shared by the tests below)."""
    folder = tmp_path_factory.mktemp("train")
    data = code_text(folder / "code.txt")
    out = folder / "model.safetensors"
    from tinytorch.cli import main

    code = main(["train", "--data", data, "--steps", "40", "--out", str(out), "--no-progress", "--eval-every", "20"])
    return code, folder, data, out


def test_train_writes_checkpoint_and_loss_curve(trained):
    code, folder, _, out = trained
    assert code == 0
    assert out.is_file() and (folder / "model.loss.png").is_file()
    assert (folder / "model.loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [n for n in os.listdir(folder) if n.endswith(".tmp")], "a temporary checkpoint was left behind"
    meta = load_checkpoint(out, restore_rng=False)
    assert meta["step"] == 40
    assert meta["config"]["kind"] == "tinytorch-train"
    assert meta["config"]["train"]["preset"] == "tiny"  # the text is small: the size rule picks tiny
    history = meta["extra"]["trainer"]["history"]
    assert len(history["train_loss"]) == 40
    assert history["val_step"] == [20, 40]
    assert all(math.isfinite(v) for v in history["val_loss"])


def test_training_lowers_the_loss_below_guessing(trained):
    _, _, _, out = trained
    model, tokenizer, meta = load_model(str(out))
    losses = meta["extra"]["trainer"]["history"]["train_loss"]
    ln_v = math.log(tokenizer.vocab_size)
    assert abs(losses[0] - ln_v) < 0.3, f"first loss {losses[0]:.3f} should be near ln(V) = {ln_v:.3f}"
    assert np.mean(losses[-10:]) < 0.85 * ln_v, f"40 steps did not learn: {np.mean(losses[-10:]):.3f} vs {ln_v:.3f}"
    assert model.config.block_size == meta["config"]["train"]["block_size"] == 64


def test_train_prints_summary(capsys, tmp_path):
    data = code_text(tmp_path / "code.txt")
    code, out, _ = run_cli(capsys, "train", "--data", data, "--steps", "3", "--out", tmp_path / "m.safetensors",
                           "--no-progress")
    assert code == 0
    assert "preset tiny" in out and "1 layer(s), 4 heads, 32 wide" in out and "char tokenizer" in out
    assert "step 3: train loss" in out and "validation loss" in out and "tokens/s" in out
    assert f"checkpoint: {tmp_path / 'm.safetensors'}" in out


def test_resume_continues_from_the_checkpoint(capsys, trained, tmp_path):
    _, _, data, out = trained
    copy = tmp_path / "copy.safetensors"
    copy.write_bytes(out.read_bytes())
    code, text, err = run_cli(capsys, "train", "--data", data, "--resume", copy, "--steps", "50", "--no-progress")
    assert code == 0, err
    meta = load_checkpoint(copy, restore_rng=False)
    assert meta["step"] == 50
    history = meta["extra"]["trainer"]["history"]
    assert len(history["train_loss"]) == 50
    before = load_checkpoint(out, restore_rng=False)["extra"]["trainer"]["history"]["train_loss"]
    assert history["train_loss"][:40] == before  # the earlier history is kept, not restarted
    assert "step 50" in text


def test_resume_already_finished_is_a_user_error(capsys, trained):
    _, _, data, out = trained
    code, _, err = run_cli(capsys, "train", "--data", data, "--resume", out, "--steps", "40", "--no-progress")
    assert code == 2
    assert_one_line_error(err, "already at step 40")


def test_bpe_tokenizer_and_small_size(capsys, tmp_path):
    data = code_text(tmp_path / "code.txt")
    out = tmp_path / "bpe.safetensors"
    code, text, err = run_cli(capsys, "train", "--data", data, "--tokenizer", "bpe", "--size", "small",
                              "--steps", "2", "--batch-size", "2", "--out", out, "--no-progress")
    assert code == 0, err
    model, tokenizer, _ = load_model(str(out))
    assert type(tokenizer).__name__ == "BPETokenizer" and tokenizer.vocab_size > 256
    assert model.num_layers == 2 and model.embed_dim == 64


@pytest.mark.parametrize("argv, fragment", [
    (["--data", "missing.txt"], "no such file"),
    (["--data", "{empty}"], "empty"),
    (["--data", "{binary}"], "not UTF-8"),
    (["--data", "{short}"], "too short"),
    (["--data", "{code}", "--lr", "2"], "--learning-rate must be in (0, 1), got 2.0"),
    (["--data", "{code}", "--out", "{dir}"], "is a directory"),
    (["--data", "{code}", "--resume", "{code}"], "not a readable safetensors file"),
    (["--data", "{code}", "--resume", "missing.safetensors"], "no such checkpoint"),
])
def test_user_errors_exit_2_with_one_line(capsys, tmp_path, argv, fragment):
    paths = {"empty": tmp_path / "empty.txt", "binary": tmp_path / "bin.txt", "short": tmp_path / "short.txt",
             "code": tmp_path / "code.txt", "dir": tmp_path}
    paths["empty"].write_text("  \n\n", encoding="utf-8")
    paths["binary"].write_bytes(b"\xff\xfe\x00\x81binary")
    paths["short"].write_text("def f(): pass\n", encoding="utf-8")
    code_text(paths["code"])
    argv = [a.format(**{k: str(v) for k, v in paths.items()}) for a in argv]
    code, _, err = run_cli(capsys, "train", *argv, "--steps", "1", "--no-progress")
    assert code == 2
    assert_one_line_error(err, fragment)


@pytest.mark.parametrize("argv, fragment", [
    (["--steps", "0"], "--steps"), (["--steps", "ten"], "--steps"), (["--seed", "-3"], "--seed"),
    (["--size", "huge"], "--size"), (["--tokenizer", "words"], "--tokenizer"),
])
def test_bad_option_values_exit_2_with_one_line(capsys, tmp_path, argv, fragment):
    code, _, err = run_cli(capsys, "train", "--data", code_text(tmp_path / "c.txt"), *argv)
    assert code == 2
    assert_one_line_error(err, fragment)


def test_resume_with_other_settings_or_text_is_incompatible(capsys, trained, tmp_path):
    _, _, data, out = trained
    code, _, err = run_cli(capsys, "train", "--data", data, "--resume", out, "--size", "small", "--steps", "60")
    assert code == 2
    assert_one_line_error(err, "--preset tiny")
    other = tmp_path / "other.txt"
    other.write_text("ÄÖÜ are not in the vocabulary " * 20, encoding="utf-8")
    code, _, err = run_cli(capsys, "train", "--data", other, "--resume", out, "--steps", "60")
    assert code == 2
    assert_one_line_error(err, "never saw")
