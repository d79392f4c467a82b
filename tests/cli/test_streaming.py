"""`tinytorch generate` streams: each token's text is printed as soon as it is whole, Ctrl-C keeps it, a closed
pipe ends quietly, and the streamed text is exactly the text the library returns for the same seed."""

from __future__ import annotations

import random
import signal
import threading
import time

import numpy as np
import pytest

from tinytorch.core.random import manual_seed
from tinytorch.generation import generate, generate_text, stream_text
from tinytorch.pretrained import load_pretrained
from tinytorch.text.bpe import BPETokenizer

from faults_helpers import run, start, text_file

# Accents, CJK and emoji: byte-level BPE tokens of this text often hold part of a character.
WIDE = "café naïve — 東京 🙂🚀 ünïcödé déjà vu 🙃\n" * 30


@pytest.fixture(scope="module")
def bpe_checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bpe")
    data = folder / "wide.txt"
    data.write_text(WIDE, encoding="utf-8")
    out = folder / "m.safetensors"
    result = run("train", "--data", data, "--tokenizer", "bpe", "--out", out, "--steps", "3", "--no-progress")
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def char_checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("char")
    out = folder / "m.safetensors"
    assert run("train", "--data", text_file(folder), "--out", out, "--steps", "3", "--no-progress").returncode == 0
    return out


def test_byte_decoder_pieces_join_to_the_whole_decode_for_any_ids():
    tok = BPETokenizer(300)
    tok.train(WIDE)
    rng = random.Random(0)
    split_chars = 0
    for _ in range(300):
        ids = [rng.randrange(tok.vocab_size) for _ in range(rng.randrange(1, 30))]
        decoder = tok.stream_decoder()
        pieces = [decoder.feed([i]) for i in ids] + [decoder.flush()]
        assert "".join(pieces) == tok.decode(ids)
        # A piece never ends in a character cut in two when the whole text has that character whole.
        split_chars += sum(1 for i in ids if tok.decode([i]).endswith("\ufffd"))
    assert split_chars > 50  # the ids did cut characters, so the holding back was exercised


@pytest.mark.parametrize("use_cache", [True, False])
@pytest.mark.parametrize("kind", ["bpe", "char"])
def test_streamed_text_is_the_library_generate_text(request, kind, use_cache):
    model, tok = load_pretrained(request.getfixturevalue(f"{kind}_checkpoint"))
    prompt = "café " if kind == "bpe" else "def "
    ids = np.asarray(tok.encode(prompt))
    whole = generate(model, ids, 60, temperature=1.0, seed=5, use_cache=use_cache)
    expected = tok.decode(whole[len(ids):].tolist())
    pieces = list(stream_text(model, tok, prompt, 60, temperature=1.0, seed=5, use_cache=use_cache))
    assert "".join(pieces) == expected == generate_text(model, tok, prompt, 60, temperature=1.0, seed=5,
                                                        use_cache=use_cache)
    assert len(pieces) > 10  # streamed piece by piece, not once at the end
    assert not any(p.endswith("\ufffd") for p in pieces) or expected.count("\ufffd")


def test_a_stop_string_is_never_printed_even_across_pieces(char_checkpoint):
    model, tok = load_pretrained(char_checkpoint)
    for seed in range(6):
        full = tok.decode(generate(model, np.asarray(tok.encode("def ")), 80, seed=seed)[4:].tolist())
        stop = full[30:33]  # three characters the sample produces, cut across tokens
        pieces = list(stream_text(model, tok, "def ", 80, stop=[stop], seed=seed))
        assert "".join(pieces) == full[:full.find(stop)]
        assert all(stop not in p for p in pieces)


def _guarded(proc, seconds: int = 120) -> threading.Timer:
    """Kill `proc` after `seconds`: a command that prints nothing until it ends fails the test, never hangs it."""
    guard = threading.Timer(seconds, proc.kill)
    guard.start()
    return guard


def _read_until(stream, text: str, deadline: float) -> str:
    seen = ""
    while text not in seen and time.monotonic() < deadline:
        ch = stream.read(1)
        if not ch:
            break
        seen += ch
    return seen


def test_ctrl_c_keeps_the_streamed_text_and_exits_130(bpe_checkpoint):
    proc = start("generate", bpe_checkpoint, "--prompt", "café ", "--max-new-tokens", "100000", "--seed", "7")
    guard = _guarded(proc)
    try:
        head = _read_until(proc.stdout, "café ", time.monotonic() + 120)
        head += proc.stdout.read(20)  # tokens arrive while the run goes on: streamed, not printed at the end
        proc.send_signal(signal.SIGINT)
        rest = proc.stdout.read()
        stderr = proc.stderr.read()
        proc.wait(timeout=60)
    finally:
        guard.cancel()
        proc.kill()
    out = head + rest
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and stderr.strip().endswith("tinytorch generate: interrupted"), stderr
    assert out.endswith("\n") and out.startswith("café ")
    kept = out[len("café "):-1]
    model, tok = load_pretrained(bpe_checkpoint)
    manual_seed(7)  # as the command seeds: after loading
    # Every token adds at least one byte (a broken one prints as U+FFFD, 3 bytes): enough tokens to cover it.
    again = generate_text(model, tok, "café ", len(kept.encode("utf-8")) + 4, temperature=0.8)
    assert again.startswith(kept) and len(kept) >= 20  # what was printed is the seeded sample's beginning


@pytest.mark.parametrize("kind", ["bpe", "char"])
def test_a_pipe_closed_early_ends_quietly_with_141(request, kind):
    proc = start("generate", request.getfixturevalue(f"{kind}_checkpoint"), "--max-new-tokens", "100000")
    guard = _guarded(proc)
    try:
        first = proc.stdout.read(10)  # as `| head -c 10` reads, then leaves
        proc.stdout.close()
        stderr = proc.stderr.read()
        proc.wait(timeout=120)
    finally:
        guard.cancel()
        proc.kill()
    assert len(first) == 10
    assert proc.returncode == 141, stderr  # 128 + SIGPIPE, as tools that SIGPIPE ends report it
    assert stderr == "", stderr


def test_streamed_command_output_is_the_library_text(char_checkpoint):
    result = run("generate", char_checkpoint, "--prompt", "def ", "--max-new-tokens", "50", "--seed", "3",
                 "--num-samples", "2", "--top-k", "5")
    assert result.returncode == 0, result.stderr
    model, tok = load_pretrained(char_checkpoint)
    manual_seed(3)
    samples = [generate_text(model, tok, "def ", 50, temperature=0.8, top_k=5) for _ in range(2)]
    assert result.stdout == "def " + samples[0] + "\n" + "-" * 15 + "\n" + "def " + samples[1] + "\n"
