"""`tinytorch generate`: rebuilds the model and tokenizer from a checkpoint and samples with the KV cache."""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch.cli.common import load_model
from tinytorch.training.checkpoint import save_checkpoint
from tinytorch.nn.layers import Linear
from tinytorch.text.tokenization import CharTokenizer
from tinytorch.generation import generate

from cli_helpers import assert_one_line_error, code_text, run_cli, trained_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return trained_checkpoint(tmp_path_factory.mktemp("generate"), steps=10)[0]


def test_greedy_output_matches_the_library_with_and_without_cache(capsys, checkpoint):
    code, out, err = run_cli(capsys, "generate", checkpoint, "--prompt", "def ", "--temperature", "0",
                             "--max-new-tokens", "24")
    assert code == 0, err
    model, tokenizer, _ = load_model(str(checkpoint))
    prompt = tokenizer.encode("def ")
    for use_cache in (True, False):
        ids = generate(model, np.asarray(prompt), 24, temperature=0.0, use_cache=use_cache)
        assert out == "def " + tokenizer.decode(ids[len(prompt):].tolist()) + "\n"


def test_seed_makes_sampling_repeatable(capsys, checkpoint):
    runs = [run_cli(capsys, "generate", checkpoint, "--prompt", "for ", "--seed", str(s), "--max-new-tokens", "40",
                    "--top-k", "10", "--top-p", "0.95")[1] for s in (1, 1, 2)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert all(r.startswith("for ") and len(r) == len("for ") + 40 + 1 for r in runs)  # char model: 40 chars


def test_prompt_longer_than_the_context_is_cropped(capsys, checkpoint):
    code, out, _ = run_cli(capsys, "generate", checkpoint, "--prompt", "x = 1\n" * 30, "--max-new-tokens", "5",
                           "--temperature", "0")
    assert code == 0 and out.startswith("x = 1\n" * 30) and len(out) == 6 * 30 + 5 + 1


def test_unknown_prompt_characters_warn_but_generate(capsys, checkpoint):
    code, out, err = run_cli(capsys, "generate", checkpoint, "--prompt", "Ω = ", "--max-new-tokens", "3")
    assert code == 0 and out.startswith("Ω = ")
    assert "warning" in err and "Ω" in err


def test_copilot_checkpoint_is_understood(capsys, tmp_path):
    """Checkpoints written by the copilot experiment; generate reads them too."""
    from tinytorch.experiments.copilot import new_copilot, save_copilot

    result = new_copilot(0)
    path = save_copilot(result, tmp_path / "copilot.safetensors")
    code, out, err = run_cli(capsys, "generate", path, "--prompt", "def ", "--max-new-tokens", "4", "--seed", "0")
    assert code == 0, err
    assert out.startswith("def ")


@pytest.mark.parametrize("argv, fragment", [
    (["{missing}", "--prompt", "x"], "no such checkpoint"),
    (["{text}", "--prompt", "x"], "not a readable safetensors file"),
    (["{ckpt}", "--prompt", "x", "--temperature", "-1"], "--temperature"),
    (["{ckpt}", "--prompt", "x", "--top-p", "1.5"], "--top-p"),
    (["{ckpt}", "--prompt", "x", "--top-k", "0"], "--top-k"),
    (["{ckpt}", "--prompt", "x", "--max-new-tokens", "many"], "--max-new-tokens"),
    (["{mismatch}", "--prompt", "x"], "inconsistent"),
    (["{noconfig}", "--prompt", "x"], "no model configuration"),
])
def test_user_errors_exit_2_with_one_line(capsys, tmp_path, checkpoint, argv, fragment):
    model, tokenizer, meta = load_model(str(checkpoint))
    small = CharTokenizer().build_vocab("abc")  # 4 symbols for a model of many more
    save_checkpoint(tmp_path / "mismatch.safetensors", model, config=meta["config"], tokenizer=small)
    save_checkpoint(tmp_path / "noconfig.safetensors", Linear(3, 2), tokenizer=tokenizer)  # not a GPT: no model_config
    paths = {"missing": tmp_path / "none.safetensors", "text": code_text(tmp_path / "t.txt"), "ckpt": checkpoint,
             "mismatch": tmp_path / "mismatch.safetensors", "noconfig": tmp_path / "noconfig.safetensors"}
    argv = [a.format(**{k: str(v) for k, v in paths.items()}) for a in argv]
    code, out, err = run_cli(capsys, "generate", *argv)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, fragment)
