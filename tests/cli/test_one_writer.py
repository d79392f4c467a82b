"""Nothing lost, nothing mixed: one writer per output (train --out, export DIR), stale locks of killed
runs taken over, and an export replaces a folder as a whole or not at all."""

import errno
import os
import signal
import subprocess
import sys

import pytest

import tinytorch.hf.directory as directory_module
from faults_helpers import run, start, text_file
from tinytorch.nn.config import GPTConfig
from tinytorch.text.tokenization import CharTokenizer
from tinytorch.nn.transformer import GPT
from tinytorch.hf import save_pretrained


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_second_train_with_the_same_out_is_refused_and_a_killed_runs_lock_is_stale(tmp_path):
    data, out = text_file(tmp_path), tmp_path / "m.safetensors"
    first = start("train", "--data", data, "--out", out, "--steps", "100000", "--no-progress")
    for line in first.stdout:
        if "training a" in line:
            break
    second = run("train", "--data", data, "--out", out, "--steps", "5", "--no-progress", "--overwrite")
    assert second.returncode == 2 and "being written by another tinytorch train" in second.stderr, second.stderr
    first.send_signal(signal.SIGKILL)  # no clean-up: its lock file stays behind, stale
    first.communicate(timeout=30)
    assert os.path.exists(f"{out}.lock")
    third = run("train", "--data", data, "--out", out, "--steps", "5", "--no-progress", "--overwrite")
    assert third.returncode == 0, third.stderr
    assert out.exists() and not os.path.exists(f"{out}.lock")


def _model(seed_text: str):
    tokenizer = CharTokenizer().build_vocab(seed_text)
    return GPT(GPTConfig(vocab_size=tokenizer.vocab_size, embed_dim=8, num_layers=1, num_heads=2, max_seq_len=8)), tokenizer


def _snapshot(folder) -> dict:
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))}


@pytest.mark.parametrize("fail_at", [1, 2, 3, 5])
def test_failed_export_leaves_the_earlier_one_exactly_and_the_retry_works(tmp_path, monkeypatch, fail_at):
    folder = tmp_path / "export"
    save_pretrained(*_model("abcdef"), folder)
    before = _snapshot(folder)
    write, calls = directory_module.atomic_write, []

    def disk_full(path, data):
        calls.append(path)
        if len(calls) == fail_at:
            raise OSError(errno.ENOSPC, f"cannot write '{path}': No space left on device")
        return write(path, data)
    monkeypatch.setattr(directory_module, "atomic_write", disk_full)
    new_model = _model("uvwxyz0123")  # another vocabulary: a mix would show in config.json and the weights
    with pytest.raises(OSError, match="No space left"):
        save_pretrained(*new_model, folder)
    assert _snapshot(folder) == before
    assert sorted(os.listdir(tmp_path)) == ["export"], "a partial folder was left behind"
    monkeypatch.undo()
    save_pretrained(*new_model, folder)
    assert _snapshot(folder)["config.json"] != before["config.json"]
    assert sorted(os.listdir(tmp_path)) == ["export"]


def test_failed_first_export_leaves_nothing_and_the_retry_works(tmp_path, monkeypatch):
    folder = tmp_path / "export"
    monkeypatch.setattr(directory_module, "atomic_write",
                        lambda path, data: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(OSError):
        save_pretrained(*_model("abc"), folder)
    assert os.listdir(tmp_path) == []
    monkeypatch.undo()
    save_pretrained(*_model("abc"), folder)
    assert "config.json" in os.listdir(folder)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpt")
    data, out = text_file(folder), folder / "m.safetensors"
    assert run("train", "--data", data, "--out", out, "--steps", "3", "--no-progress").returncode == 0
    return out


def test_export_into_a_folder_another_export_holds_is_refused(tmp_path, checkpoint):
    folder = tmp_path / "hf"
    (tmp_path / "hf.lock").write_text(f"{os.getpid()} {os.uname().nodename}\n")  # a live holder (this test)
    result = run("export", checkpoint, folder)
    assert result.returncode == 2 and "being written by another tinytorch export" in result.stderr, result.stderr
    assert not folder.exists()
    (tmp_path / "hf.lock").write_text(f"{_dead_pid()} {os.uname().nodename}\n")  # a killed export's lock
    result = run("export", checkpoint, folder)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "hf.lock").exists() and (folder / "model.safetensors").exists()
