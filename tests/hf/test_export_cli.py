"""`tinytorch export CKPT DIR` as a user runs it, and `load_pretrained` on the directory it writes."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.training.checkpoint import save_checkpoint
from tinytorch.hf import EXPORT_FILES, load_gpt2_directory

from hf_helpers import CORPUS, MIXED, hf_logits

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _tinytorch(*argv) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "tinytorch.cli", *map(str, argv)], env=env, capture_output=True,
                          text=True, timeout=240)


@pytest.fixture(params=["char", "bpe"])
def checkpoint(request, tmp_path):
    tt.manual_seed(1)
    text = "".join(CORPUS)
    tokenizer = tt.CharTokenizer().build_vocab(text) if request.param == "char" else tt.BPETokenizer(300).train(text)
    model = tt.GPT(tokenizer.vocab_size, 32, 2, 4, max_seq_len=64)
    return save_checkpoint(tmp_path / "model.safetensors", model, tokenizer=tokenizer), model.eval(), tokenizer


def test_export_writes_a_directory_that_loads_back_exactly(checkpoint, tmp_path):
    path, model, tokenizer = checkpoint
    result = _tinytorch("export", path, tmp_path / "hf")
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and sorted(os.listdir(tmp_path / "hf")) == sorted(EXPORT_FILES)
    for loaded, loaded_tokenizer in (load_gpt2_directory(tmp_path / "hf"), tt.load_pretrained(tmp_path / "hf")):
        assert loaded_tokenizer == tokenizer
        ids = np.array([tokenizer.encode("def add(a, b):")])
        np.testing.assert_array_equal(loaded(ids).data, model(ids).data)


def test_exported_directory_runs_in_transformers(checkpoint, tmp_path):
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("torch")
    path, model, tokenizer = checkpoint
    assert _tinytorch("export", path, tmp_path / "hf").returncode == 0
    hf = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "hf").eval()
    ids = transformers.AutoTokenizer.from_pretrained(tmp_path / "hf")(MIXED.replace("🙂", ""))["input_ids"][:64]
    np.testing.assert_allclose(hf_logits(hf, ids), model(np.array([ids])).data[0], atol=1e-4, rtol=0)


def test_export_refuses_a_folder_with_other_files_in_one_line(checkpoint, tmp_path):
    path = checkpoint[0]
    result = _tinytorch("export", path, tmp_path)  # holds model.safetensors, the user's checkpoint
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not empty" in lines[0] and "Traceback" not in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["model.safetensors"]


def test_export_of_a_missing_checkpoint_is_a_one_line_error(tmp_path):
    result = _tinytorch("export", tmp_path / "none.safetensors", tmp_path / "hf")
    assert result.returncode == 2 and "no such checkpoint" in result.stderr
    assert not (tmp_path / "hf").exists()
