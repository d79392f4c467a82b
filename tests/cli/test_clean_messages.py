"""Clean messages: Ctrl-C while tinytorch is still being imported prints one line and exits 130; bad bytes
in a tokenizer file name the file and the byte offset; the copilot experiment reads its checkpoint once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tinytorch.hf.tokenizer import load_tokenizer
from tinytorch.text.bytelevel import bytes_to_token

from faults_helpers import REPO, env

# The launcher the `tinytorch` console script runs; "ready" tells the test that it is about to import tinytorch.
LAUNCH = ("import sys, tinytorch_launcher; sys.stderr.write('ready\\n'); sys.stderr.flush(); "
          "sys.exit(tinytorch_launcher.main())")


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15])
def test_ctrl_c_while_importing_prints_one_line_and_exits_130(delay):
    proc = subprocess.Popen([sys.executable, "-c", LAUNCH, "--version"], cwd=REPO, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr.readline() == "ready\n"
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    if proc.returncode == 0:  # the machine imported tinytorch before the signal came: nothing to interrupt
        assert out.startswith("tinytorch ") and delay > 0
        return
    assert proc.returncode == 130, err
    assert err == "tinytorch: interrupted\n" and out == ""


def test_the_console_script_is_the_launcher():
    with open(f"{REPO}/pyproject.toml", encoding="utf-8") as f:
        assert 'tinytorch = "tinytorch_launcher:main"' in f.read()


def _gpt2_files(folder, merges: bytes, vocab: bytes | None = None):
    tokens = {bytes_to_token(bytes([b])): b for b in range(256)}
    tokens[bytes_to_token(b" t")] = 256
    (folder / "vocab.json").write_bytes(vocab if vocab is not None else json.dumps(tokens).encode())
    (folder / "merges.txt").write_bytes(merges)
    return folder


def test_gpt2_files_load_when_clean(tmp_path):
    tok = load_tokenizer(str(_gpt2_files(tmp_path, "#version: 0.2\nĠ t\n".encode())))
    assert tok.encode(" t") == [256]


@pytest.mark.parametrize("offset", [19, 30_014])  # line starts inside the first read buffer and far past it
def test_a_bad_byte_in_merges_txt_names_the_file_and_its_offset(tmp_path, offset):
    good = "#version: 0.2\n".encode() + "Ġ t\n".encode() * 20_000
    merges = good[:offset] + b"\xff" + good[offset:]
    _gpt2_files(tmp_path, merges)
    with pytest.raises(ValueError) as info:
        load_tokenizer(str(tmp_path))
    message = str(info.value)
    assert "merges.txt" in message and f"byte offset {offset}" in message and "0xff" in message, message


@pytest.mark.parametrize("offset", [1, 9_000])
def test_a_bad_byte_in_vocab_json_names_the_file_and_its_offset(tmp_path, offset):
    tokens = {bytes_to_token(bytes([b])): b for b in range(256)}
    text = json.dumps(tokens, ensure_ascii=False).encode()  # about 1.5 KB: pad it with spaces past the offset
    text = text[:1] + b" " * 10_000 + text[1:]
    _gpt2_files(tmp_path, b"#version: 0.2\n", text[:offset] + b"\xc3\x28" + text[offset:])
    with pytest.raises(ValueError) as info:
        load_tokenizer(str(tmp_path))
    message = str(info.value)
    assert "vocab.json" in message and f"byte offset {offset}" in message, message


def test_broken_json_names_the_byte_offset(tmp_path):
    _gpt2_files(tmp_path, b"#version: 0.2\n", '{"é": 0,, }'.encode())
    with pytest.raises(ValueError, match=r"vocab\.json: not valid JSON \(.* at byte offset 9\)"):
        load_tokenizer(str(tmp_path))


def test_copilot_load_reads_its_checkpoint_once(tmp_path, monkeypatch):
    from tinytorch.experiments import copilot
    from tinytorch.training import checkpoint

    result = copilot.run_copilot(seed=0, steps=2)
    path = tmp_path / "copilot.safetensors"
    copilot.save_copilot(result, path)
    opened = []
    real = checkpoint.CheckpointFile

    def counting(p, *args, **kwargs):
        opened.append(str(p))
        return real(p, *args, **kwargs)

    monkeypatch.setattr(checkpoint, "CheckpointFile", counting)
    loaded = copilot.load_copilot(path)
    assert opened == [str(path)]  # one open: header, tokenizer and tensors from one read
    assert loaded.trainer.step == 2
    for (name, p), (_, q) in zip(loaded.model.named_parameters(), result.model.named_parameters()):
        assert (p.data == q.data).all(), name
