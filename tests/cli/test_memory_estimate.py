"""A model too big for the machine is refused before it is built, with the estimate and the free memory."""

import pytest

from faults_helpers import run, text_file
from tinytorch.cli.memory_estimate import parameter_count
from tinytorch.nn.config import GPTConfig
from tinytorch.nn.transformer import GPT


@pytest.mark.parametrize("shape", [(11, 8, 1, 2, 16), (50, 32, 3, 4, 64), (7, 12, 2, 3, 5)])
def test_parameter_count_is_the_models(shape):
    v, c, layers, heads, t = shape
    config = GPTConfig(vocab_size=v, embed_dim=c, num_layers=layers, num_heads=heads, max_seq_len=t)
    assert parameter_count(config) == sum(p.data.size for p in GPT(config).parameters())


@pytest.mark.parametrize("flags", [["--n-embd", "20000"], ["--n-layer", "5000", "--n-embd", "512"]])
def test_a_model_bigger_than_memory_is_refused_at_start(tmp_path, flags):
    result = run("train", "--data", text_file(tmp_path), "--out", tmp_path / "m.safetensors", *flags, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "GiB to train" in result.stderr and "GiB is available" in result.stderr, result.stderr
    assert not (tmp_path / "m.safetensors").exists()
