"""A load reads one file once: a checkpoint replaced while it is being loaded never mixes two files."""

import contextlib
import threading

import numpy as np
import pytest

from tinytorch.training.checkpoint import read_checkpoint, save_checkpoint
from tinytorch.nn.config import GPTConfig
from tinytorch.runtime.fileio import atomic_write
from tinytorch.core.random import manual_seed
from tinytorch.text.tokenization import CharTokenizer
from tinytorch.nn.transformer import GPT
from tinytorch.pretrained import load_gpt_checkpoint

LOADS = 300


def _checkpoint_bytes(tmp_path, name: str, text: str, seed: int) -> bytes:
    """A checkpoint whose tokenizer (its characters) and weights (its seed) both say which one it is."""
    manual_seed(seed)
    tokenizer = CharTokenizer().build_vocab(text)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, embed_dim=8, num_layers=1, num_heads=2, max_seq_len=8))
    path = tmp_path / name
    save_checkpoint(path, model, tokenizer=tokenizer)
    return path.read_bytes(), model.token_embedding.weight.data.copy()


@pytest.fixture
def two_checkpoints(tmp_path):
    a = _checkpoint_bytes(tmp_path, "a.safetensors", "abcdefgh", seed=1)
    b = _checkpoint_bytes(tmp_path, "b.safetensors", "stuvwxyz", seed=2)
    return {"a": a, "s": b}  # keyed by each tokenizer's first character


@contextlib.contextmanager
def _replaced_meanwhile(tmp_path, two_checkpoints):
    """A checkpoint path that a writer thread atomically replaces by each version in turn (as train's saves
    do) until the block ends."""
    path = tmp_path / "live.safetensors"
    versions = [v[0] for v in two_checkpoints.values()]
    atomic_write(path, versions[0])
    stop = threading.Event()

    def run():
        i = 0
        while not stop.is_set():
            atomic_write(path, versions[i % len(versions)])
            i += 1
    writer = threading.Thread(target=run, daemon=True)
    writer.start()
    try:
        yield path
    finally:
        stop.set()
        writer.join()


def test_load_pretrained_never_mixes_a_replaced_file(tmp_path, two_checkpoints):
    seen = set()
    with _replaced_meanwhile(tmp_path, two_checkpoints) as path:
        for _ in range(LOADS):
            model, tokenizer, _ = load_gpt_checkpoint(path)
            first = tokenizer.decode([1])  # id 0 is <UNK>; id 1 is the first character of the text
            expected = two_checkpoints[first][1]
            assert np.array_equal(model.token_embedding.weight.data, expected), \
                f"weights of one checkpoint with the tokenizer of the other ({first!r})"
            seen.add(first)
    assert seen == {"a", "s"}, f"the writer never replaced the file during the loads (saw {seen})"


def test_read_checkpoint_header_and_tensors_come_from_one_file(tmp_path, two_checkpoints):
    seen = set()
    with _replaced_meanwhile(tmp_path, two_checkpoints) as path:
        for _ in range(LOADS):
            meta, arrays = read_checkpoint(path, tensors=("model.",))
            key = "a" if meta["tokenizer"] == _tok_dict("abcdefgh") else "s"
            assert np.array_equal(arrays["model.token_embedding.weight"], two_checkpoints[key][1]), key
            seen.add(key)
    assert seen == {"a", "s"}, f"the writer never replaced the file during the reads (saw {seen})"


def _tok_dict(text: str) -> dict:
    return CharTokenizer().build_vocab(text).to_dict()
