"""`tinytorch doctor`: the debugging checklist passes on a healthy model and names what is broken."""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch.cli.common import load_model
from tinytorch.training.checkpoint import save_checkpoint

from cli_helpers import assert_one_line_error, run_cli, trained_checkpoint

CHECKS = ["1. Gradient flow", "2. Initial loss", "2. Trained loss", "2. NaN/Inf", "3. Tokenizer round trip",
          "3. Padding and target shift", "4. Learning rate", "4. Gradient clipping", "5. Embedding dimension",
          "5. Sequence length", "5. Vocabulary size"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return trained_checkpoint(tmp_path_factory.mktemp("doctor"), steps=25)


def _lines(out: str) -> dict:
    """{check name: (passed, measured)} from doctor's output."""
    found = {}
    for line in out.splitlines():
        if line[:2] in ("✓ ", "✗ "):
            name, measured = line[2:].split(": ", 1)
            found[name] = (line[0] == "✓", measured)
    return found


def _resave(path, src, mutate=None, config_change=None, tokenizer=None):
    """Copy checkpoint `src` to `path`, changing weights (mutate(model)) or the stored config."""
    model, tok, meta = load_model(str(src), check_vocab=False)
    if mutate:
        mutate(model)
    config = meta["config"]
    if config_change:
        config_change(config)
    save_checkpoint(path, model, step=meta["step"], config=config, tokenizer=tokenizer or tok, extra=meta["extra"])
    return path


def test_healthy_checkpoint_passes_every_check(capsys, checkpoint):
    ckpt, data = checkpoint
    code, out, _ = run_cli(capsys, "doctor", ckpt, "--data", data)
    assert code == 0, out
    lines = _lines(out)
    assert list(lines) == CHECKS
    assert all(ok for ok, _ in lines.values()), out
    assert lines["1. Gradient flow"][1].startswith("21/21 parameters")
    assert "vs ln(56)" in lines["2. Initial loss"][1]
    assert "11/11 checks passed" in out


def test_fresh_configs_pass(capsys):
    for size in ("tiny", "small"):
        code, out, _ = run_cli(capsys, "doctor", "--config", size)
        lines = _lines(out)
        assert code == 0, out
        assert "2. Trained loss" not in lines  # nothing trained yet
        assert len(lines) == 10


def test_nan_weight_is_caught(capsys, checkpoint, tmp_path):
    ckpt, data = checkpoint

    def poison(model):
        model.blocks[0].mlp.linear1.weight.data[0, 0] = np.nan

    bad = _resave(tmp_path / "nan.safetensors", ckpt, mutate=poison)
    code, out, _ = run_cli(capsys, "doctor", bad, "--data", data)
    assert code == 1
    lines = _lines(out)
    assert not lines["2. NaN/Inf"][0] and "blocks.0.mlp.linear1.weight" in lines["2. NaN/Inf"][1]
    assert not lines["1. Gradient flow"][0] and "NaN/Inf" in lines["1. Gradient flow"][1]


def test_dead_lm_head_stops_gradient_flow(capsys, checkpoint, tmp_path):
    """A zero output layer: every parameter below it gets an exactly zero gradient."""
    ckpt, data = checkpoint
    bad = _resave(tmp_path / "dead.safetensors", ckpt, mutate=lambda m: m.lm_head.weight.data.fill(0.0))
    code, out, _ = run_cli(capsys, "doctor", bad, "--data", data)
    assert code == 1
    ok, measured = _lines(out)["1. Gradient flow"]
    assert not ok and "zero: token_embedding.weight" in measured


def test_learning_rate_out_of_range_is_flagged(capsys, checkpoint, tmp_path):
    ckpt, data = checkpoint

    def fast(config):
        config["train"]["settings"]["learning_rate"] = 0.5

    bad = _resave(tmp_path / "lr.safetensors", ckpt, config_change=fast)
    code, out, _ = run_cli(capsys, "doctor", bad, "--data", data)
    assert code == 1
    ok, measured = _lines(out)["4. Learning rate"]
    assert not ok and measured.startswith("0.5 in [0.0001, 0.01]")


def test_vocabulary_mismatch_is_flagged(capsys, checkpoint, tmp_path):
    from tinytorch.text.tokenization import CharTokenizer

    ckpt, data = checkpoint
    bigger = CharTokenizer().build_vocab(open(data, encoding="utf-8").read() + "ÄÖÜß")
    bad = _resave(tmp_path / "vocab.safetensors", ckpt, tokenizer=bigger)
    code, out, _ = run_cli(capsys, "doctor", bad, "--data", data)
    assert code == 1
    ok, measured = _lines(out)["5. Vocabulary size"]
    assert not ok and measured == "tokenizer 60 != model 56"


@pytest.mark.parametrize("argv, fragment", [
    (["--data", "notes.txt"], "--data needs a checkpoint"),
    (["{ckpt}", "--config", "tiny"], "not both"),
    (["missing.safetensors"], "no such checkpoint"),
    (["--config", "tiny", "--data", "missing.txt"], "no such file"),
    (["--config", "large"], "--config"),
])
def test_user_errors_exit_2(capsys, checkpoint, argv, fragment):
    argv = [a.format(ckpt=str(checkpoint[0])) for a in argv]
    code, _, err = run_cli(capsys, "doctor", *argv)
    assert code == 2
    assert_one_line_error(err, fragment)
