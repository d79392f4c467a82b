"""`tinytorch train` never destroys a user's file: --out over --data, an existing checkpoint, an unwritable
path and a failing save are all caught, before training where they can be; it keeps the last and the best."""

from __future__ import annotations

import errno
import os

import pytest

from tinytorch.training.checkpoint import load_checkpoint

from cli_helpers import assert_one_line_error, code_text, run_cli, run_subprocess

FAST = ("--steps", "4", "--eval-every", "2", "--batch-size", "4")


@pytest.fixture
def text(tmp_path):
    return code_text(tmp_path / "notes.txt")


@pytest.mark.parametrize("out", ["{data}", "./notes.txt", "{link}", "{hard}"])
def test_out_equal_to_the_data_is_refused_and_the_text_kept(tmp_path, text, out):
    os.symlink(text, tmp_path / "link.txt")
    os.link(text, tmp_path / "hard.txt")
    before = open(text, "rb").read()
    out = out.format(data=text, link=tmp_path / "link.txt", hard=tmp_path / "hard.txt")
    result = run_subprocess("train", "--data", text, "--out", out, *FAST, cwd=tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "over the training text")
    assert result.stdout == ""  # refused before any training
    assert open(text, "rb").read() == before


def test_a_derived_output_equal_to_the_data_is_refused(tmp_path):
    data = code_text(tmp_path / "model.loss.csv")  # the loss log of --out model.safetensors
    before = open(data, "rb").read()
    result = run_subprocess("train", "--data", data, "--out", tmp_path / "model.safetensors", *FAST, cwd=tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "over the training text")
    assert open(data, "rb").read() == before


def test_an_existing_checkpoint_is_kept_unless_overwrite(tmp_path, text):
    out = tmp_path / "m.safetensors"
    assert run_subprocess("train", "--data", text, "--out", out, *FAST, cwd=tmp_path).returncode == 0
    first = out.read_bytes()
    again = run_subprocess("train", "--data", text, "--out", out, *FAST, "--seed", "1", cwd=tmp_path)
    assert again.returncode == 2
    assert_one_line_error(again.stderr, str(out), "already exists", "--overwrite", "--resume")
    assert out.read_bytes() == first
    replaced = run_subprocess("train", "--data", text, "--out", out, *FAST, "--seed", "1", "--overwrite", cwd=tmp_path)
    assert replaced.returncode == 0, replaced.stderr
    assert out.read_bytes() != first


def test_an_existing_best_checkpoint_is_kept_too(tmp_path, text):
    best = tmp_path / "m-best.safetensors"
    best.write_bytes(b"someone's file")
    result = run_subprocess("train", "--data", text, "--out", tmp_path / "m.safetensors", *FAST, cwd=tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, str(best), "already exists")
    assert best.read_bytes() == b"someone's file"


def test_default_name_names_the_tokenizer_unless_char(tmp_path, text):
    assert run_subprocess("train", "--data", text, *FAST, cwd=tmp_path).returncode == 0
    bpe = run_subprocess("train", "--data", text, "--tokenizer", "bpe", *FAST, cwd=tmp_path)
    assert bpe.returncode == 0, bpe.stderr
    char_meta = load_checkpoint(tmp_path / "runs" / "notes-L1-E32-H4-T64-char.safetensors", restore_rng=False)
    bpe_meta = load_checkpoint(tmp_path / "runs" / "notes-L1-E32-H4-T64-bpe.safetensors", restore_rng=False)
    assert char_meta["config"]["train"]["tokenizer"] == "char"
    assert bpe_meta["config"]["train"]["tokenizer"] == "bpe"


@pytest.mark.parametrize("out, fragment", [("missing_dir/m.safetensors", "does not exist"),
                                           ("notes.txt/m.safetensors", "is a file")])
def test_an_unwritable_out_fails_before_training(tmp_path, text, out, fragment):
    result = run_subprocess("train", "--data", text, "--out", tmp_path / out, *FAST, cwd=tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "--out", fragment)
    assert result.stdout == ""


def test_keeps_the_last_and_the_best_checkpoint(tmp_path, text):
    out = tmp_path / "m.safetensors"
    result = run_subprocess("train", "--data", text, "--out", out, "--steps", "12", "--eval-every", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    last = load_checkpoint(out, restore_rng=False)
    best = load_checkpoint(tmp_path / "m-best.safetensors", restore_rng=False)
    history = last["extra"]["trainer"]["history"]
    assert last["step"] == 12 and history["val_step"] == [3, 6, 9, 12]
    best_loss, best_step = min(zip(history["val_loss"], history["val_step"]))
    assert best["step"] == best_step and best["extra"]["val_loss"] == best_loss
    assert f"best checkpoint: {tmp_path / 'm-best.safetensors'}" in result.stdout


def test_a_failing_save_names_path_and_reason_and_rescues_the_weights(capsys, monkeypatch, tmp_path, text):
    out_dir = tmp_path / "full_disk"
    out_dir.mkdir()
    real_replace = os.replace

    def disk_full(src, dst, *args, **kwargs):  # every rename into out_dir fails as on a full disk
        if os.path.dirname(os.path.abspath(dst)) == str(out_dir):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", disk_full)
    out = out_dir / "m.safetensors"
    code, stdout, stderr = run_cli(capsys, "train", "--data", text, "--out", out, *FAST)
    assert code == 1
    lines = [line for line in stderr.splitlines() if str(out) in line]
    assert lines and all("No space left on device" in line and "went to" in line for line in lines), stderr
    rescued = lines[-1].split("went to '")[1].split("'")[0]
    try:
        assert load_checkpoint(rescued, restore_rng=False)["step"] == 4
        assert f"checkpoint: {rescued}" in stdout
        assert not out.exists()
    finally:
        for name in os.listdir(os.path.dirname(rescued)):
            if name.startswith(f"tinytorch-rescued-{os.getpid()}-"):
                os.remove(os.path.join(os.path.dirname(rescued), name))


def test_same_seed_same_checkpoint_bit_for_bit(tmp_path, text):
    from safetensors.numpy import load_file

    runs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.safetensors"
        result = run_subprocess("train", "--data", text, "--out", out, *FAST, "--seed", "7", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        runs.append(load_file(out))
    assert runs[0].keys() == runs[1].keys()
    for key in runs[0]:
        assert runs[0][key].tobytes() == runs[1][key].tobytes(), key
