"""Memory and time bounded by the work: special files are refused at once with a clear message, file
errors name the real cause, impossible thread counts are capped, generate keeps only what it returns."""

import os
import subprocess

import numpy as np
import pytest

from faults_helpers import run, text_file

from tinytorch.nn.config import GPTConfig
from tinytorch.nn.transformer import GPT


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)  # nobody ever writes to it: opening it for reading would block forever
    return str(path)


@pytest.fixture
def loop(tmp_path):
    a, b = tmp_path / "loop-a", tmp_path / "loop-b"
    os.symlink(b, a)
    os.symlink(a, b)
    return str(a)


SPECIAL = [("/dev/zero", "character device"), ("/dev/urandom", "character device"), ("fifo", "FIFO"),
           ("loop", "Too many levels of symbolic links"), ("dir", "folder")]
COMMANDS = [["train", "--data", "{path}"], ["doctor", "--config", "tiny", "--data", "{path}"],
            ["generate", "{ckpt}", "--prompt-file", "{path}"], ["generate", "{path}", "--prompt", "a"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.parametrize("special,cause", SPECIAL, ids=[s for s, _ in SPECIAL])
def test_special_files_are_refused_quickly(tmp_path, request, command, special, cause):
    if special == "dir" and command[:2] == ["generate", "{path}"]:
        pytest.skip("a folder is a Hugging Face checkpoint for generate (tested in tests/hf)")
    path = {"fifo": lambda: request.getfixturevalue("fifo"), "loop": lambda: request.getfixturevalue("loop"),
            "dir": lambda: str(tmp_path)}.get(special, lambda: special)()
    ckpt = tmp_path / "missing.safetensors"
    argv = [a.format(path=path, ckpt=ckpt) for a in command]
    if command[0] == "generate" and "{ckpt}" in command:
        ckpt.write_bytes(b"")  # the prompt is read before the checkpoint
    try:
        result = run(*argv, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"tinytorch {' '.join(argv)} hung")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert cause in lines[0] and path in lines[0], lines[0]


def test_threads_beyond_the_cores_are_capped_with_a_notice(tmp_path):
    result = run("train", "--data", str(tmp_path / "missing.txt"), "--threads", "1000", timeout=60)
    assert "--threads 1000 is more than the" in result.stderr and "using" in result.stderr, result.stderr


def test_generate_keeps_no_per_step_logits_unless_returned():
    import tracemalloc

    model = GPT(GPTConfig(vocab_size=2000, embed_dim=16, num_layers=1, num_heads=2, max_seq_len=64))
    from tinytorch.generation import generate

    prompt = np.arange(60) % 2000
    tracemalloc.start()
    generate(model, prompt, 40, temperature=0, use_cache=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    full = 64 * 2000 * 4  # one step's (1, T, V) float32 logits
    assert peak < 20 * full, f"peak {peak:,} bytes: per-step logits are being kept ({40 * full:,} for 40 steps)"
