"""Crafted files: the work a load does is bounded by the file's size, not by what its metadata claims.

Each crafted case must fail fast (a generous hang limit, not a speed threshold) with a ValueError
naming the file and the field, in a message of bounded length.
"""

import json
import time

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

import tinytorch
from tinytorch.cli import main
from tinytorch.training.checkpoint import load_checkpoint, save_checkpoint
from tinytorch.nn.config import GPTConfig
from tinytorch.text.tokenization import BPETokenizer, CharTokenizer
from tinytorch.text.tokenizer_base import Tokenizer

HANG_LIMIT_S = 20.0  # the crafted cases used to take 50 s to minutes; a healthy refusal takes milliseconds
MESSAGE_LIMIT = 2000  # characters; a 300k-key file once printed 3 MB


@pytest.fixture
def checkpoint(tmp_path):
    """A real GPT checkpoint with its tokenizer (a few KB)."""
    tinytorch.manual_seed(0)
    tok = CharTokenizer().build_vocab("hello world")
    model = tinytorch.GPT(GPTConfig(vocab_size=tok.vocab_size, embed_dim=8, num_layers=1, num_heads=2, max_seq_len=16))
    return save_checkpoint(tmp_path / "model.safetensors", model, tokenizer=tok)


def rewrite(src, dst, blob=None, tensors=None):
    """Copy a checkpoint with its JSON blob and/or tensors edited, as an attacker would."""
    with safe_open(str(src), framework="numpy") as f:
        arrays = {k: f.get_tensor(k) for k in f.keys()}
        meta = json.loads(f.metadata()["tinytorch"])
    arrays = tensors(arrays) if tensors else arrays
    meta = blob(meta) if blob else meta
    save_file(arrays, str(dst), metadata={"tinytorch": json.dumps(meta)})
    return dst


def claims(**changes):
    """A blob edit: the stored model_config with `changes`."""
    return lambda b: dict(b, model_config=dict(b["model_config"], **changes))


def refused_quickly(call, *fragments):
    """call() raises a bounded ValueError containing every fragment, well inside the hang limit."""
    start = time.perf_counter()
    with pytest.raises(ValueError) as info:
        call()
    assert time.perf_counter() - start < HANG_LIMIT_S
    message = str(info.value)
    assert len(message) < MESSAGE_LIMIT, message[:300]
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


@pytest.mark.parametrize("change, fragment", [
    ({"block_size": 5_000_000}, "'position_embedding.weight' of shape (5000000, 8)"),
    ({"n_layer": 100_000}, "claims num_layers 100000 but the file holds 1 block(s)"),
    ({"vocab_size": 10 ** 9}, "'token_embedding.weight' of shape (1000000000, 8)"),
    ({"n_embd": 2 ** 20, "n_head": 1}, "'token_embedding.weight' of shape"),
    ({"mlp_ratio": 100_000}, "'blocks.0.mlp.linear1.weight' of shape (8, 800000)"),
])
def test_a_config_the_tensors_do_not_confirm_builds_nothing(checkpoint, tmp_path, change, fragment):
    bad = rewrite(checkpoint, tmp_path / "claims.safetensors", blob=claims(**change))
    refused_quickly(lambda: tinytorch.load_pretrained(bad), str(bad), fragment)


def test_older_files_without_model_config_are_bounded_too(checkpoint, tmp_path):
    def legacy(b):  # the layout `tinytorch train` wrote before GPTConfig: config["model"], TinyTorch's names
        nano = {"n_embd": "embed_dim", "n_layer": "num_layers", "n_head": "num_heads", "block_size": "max_seq_len"}
        model = {nano.get(k, k): v for k, v in b.pop("model_config").items()}
        model["max_seq_len"] = 5_000_000
        return dict(b, config={"kind": "tinytorch-train", "model": model})
    bad = rewrite(checkpoint, tmp_path / "legacy.safetensors", blob=legacy)
    refused_quickly(lambda: tinytorch.load_pretrained(bad), str(bad), "position_embedding.weight")


def test_block_indices_beyond_int_limits_are_not_blocks(checkpoint, tmp_path):
    def renamed(arrays):
        return {k.replace("blocks.0.", "blocks." + "9" * 5000 + ".", 1): v for k, v in arrays.items()}
    bad = rewrite(checkpoint, tmp_path / "digits.safetensors", tensors=renamed,
                  blob=lambda b: dict(b, dtypes={}))
    refused_quickly(lambda: tinytorch.load_pretrained(bad), str(bad), "num_layers 1 but the file holds 0 block(s)")


def test_a_300k_key_file_gives_a_short_message(tmp_path):
    keys = [f"model.k{i}" for i in range(300_000)]
    blob = {"format": "tinytorch-checkpoint", "version": 1, "step": 0, "dtypes": {k: "<f4" for k in keys}}
    path = tmp_path / "many.safetensors"
    save_file({k: np.zeros(0, np.float32) for k in keys}, str(path), metadata={"tinytorch": json.dumps(blob)})
    model = tinytorch.Linear(3, 2)
    before = [p.data.copy() for p in model.parameters()]
    message = refused_quickly(lambda: load_checkpoint(path, model), str(path), "and 299995 more")
    assert "missing keys ['weight', 'bias']" in message
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))


def test_config_with_300k_unknown_fields_gives_a_short_message():
    fields = {f"field{i}": i for i in range(300_000)}
    refused_quickly(lambda: GPTConfig.from_dict({**fields, "vocab_size": 5}, source="crafted.json"),
                    "crafted.json", "unknown model config field(s)", "and 299995 more")


def test_bpe_merges_that_double_a_token_forty_times_are_refused():
    merges = [[0, 0]] + [[256 + i, 256 + i] for i in range(40)]  # token 296 would be 2**41 bytes
    state = {"type": "BPETokenizer", "format_version": 1, "target_vocab_size": 1000,
             "split_pattern": BPETokenizer().to_dict()["split_pattern"], "merges": merges}
    refused_quickly(lambda: Tokenizer.from_dict(state), "merge", "bytes per token")


def test_a_huge_char_vocabulary_with_a_duplicate_is_refused_in_linear_time():
    chars = [chr(0x4E00 + i) for i in range(20_000)] * 2  # quadratic counting took minutes
    refused_quickly(lambda: CharTokenizer(chars), "duplicate characters", "and 19995 more")


def test_a_legitimate_bpe_tokenizer_still_round_trips():
    tok = BPETokenizer(300).train("the cat sat on the mat; the cat ate the rat " * 20)
    assert len(tok.merges) > 10
    again = Tokenizer.from_dict(json.loads(json.dumps(tok.to_dict())))
    assert again == tok and again.encode("the cat") == tok.encode("the cat")


@pytest.mark.parametrize("command", [["generate", "{path}", "--prompt", "h"], ["doctor", "{path}"]])
@pytest.mark.parametrize("change", [{"block_size": 5_000_000}, {"n_layer": 100_000}])
def test_the_cli_refuses_a_crafted_checkpoint_in_one_line(capsys, checkpoint, tmp_path, command, change):
    bad = rewrite(checkpoint, tmp_path / "crafted.safetensors", blob=claims(**change))
    capsys.readouterr()
    start = time.perf_counter()
    code = main([a.format(path=bad) for a in command])
    assert time.perf_counter() - start < HANG_LIMIT_S
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert code in (1, 2) and len(lines) == 1 and "Traceback" not in err, err
    assert str(bad) in lines[0] and len(lines[0]) < MESSAGE_LIMIT
