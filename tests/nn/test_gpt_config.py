"""GPTConfig: one validated description of a GPT, used by the model, its checkpoints and load_pretrained."""

import math

import numpy as np
import pytest

import tinytorch
from tinytorch import GPT, GPTConfig
from tinytorch.training.checkpoint import load_checkpoint, save_checkpoint
from tinytorch.text.tokenization import CharTokenizer

SMALL = dict(vocab_size=11, embed_dim=8, num_layers=2, num_heads=2, max_seq_len=16)


def test_gpt_from_a_config_equals_gpt_from_arguments():
    config = GPTConfig(**SMALL, dropout=0.1, mlp_ratio=2, layer_norm_eps=1e-6)
    tinytorch.manual_seed(3)
    a = GPT(config)
    tinytorch.manual_seed(3)
    b = GPT(11, 8, 2, 2, 16, 0.1, 2, 1e-6)
    assert a.config == b.config == config and isinstance(a.config, GPTConfig)
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        assert np.array_equal(p.data, q.data), name
    assert a.blocks[1].mlp.linear1.weight.shape == (8, 16)  # mlp_ratio 2
    assert a.ln_f.eps == a.blocks[0].ln1.eps == 1e-6  # layer_norm_eps reaches every LayerNorm
    assert (a.vocab_size, a.embed_dim, a.num_layers, a.num_heads, a.max_seq_len) == (11, 8, 2, 2, 16)


def test_a_config_and_sizes_together_are_refused():
    with pytest.raises(TypeError, match="GPT: give a GPTConfig or the sizes"):
        GPT(GPTConfig(**SMALL), 16)
    with pytest.raises(TypeError, match="GPT: give a GPTConfig or the sizes"):
        GPT(GPTConfig(**SMALL), dropout=0.5)


def test_to_dict_from_dict_round_trip_and_numpy_ints():
    config = GPTConfig(**SMALL)
    assert GPTConfig.from_dict(config.to_dict()) == config
    from_numpy = GPTConfig(np.int64(11), np.int32(8), 2, 2, 16)
    assert from_numpy == config and type(from_numpy.vocab_size) is int


@pytest.mark.parametrize("change, error, fragment", [
    ({"vocab_size": 0}, ValueError, "vocab_size must be a positive int, got 0"),
    ({"num_layers": -1}, ValueError, "num_layers must be a positive int, got -1"),
    ({"num_heads": True}, TypeError, "num_heads must be a positive int, got True (bool)"),
    ({"embed_dim": 8.0}, TypeError, "embed_dim must be a positive int, got 8.0 (float)"),
    ({"max_seq_len": "16"}, TypeError, "max_seq_len must be a positive int, got '16' (str)"),
    ({"num_heads": 3}, ValueError, "embed_dim 8 is not divisible by num_heads 3"),
    ({"dropout": 1.0}, ValueError, "dropout must be in [0, 1), got 1.0"),
    ({"dropout": -0.1}, ValueError, "dropout must be in [0, 1), got -0.1"),
    ({"dropout": math.nan}, ValueError, "dropout must be a finite number, got nan"),
    ({"layer_norm_eps": 0.0}, ValueError, "layer_norm_eps must be > 0.0, got 0.0"),
    ({"mlp_ratio": 0}, ValueError, "mlp_ratio must be > 0.0, got 0.0"),
    ({"mlp_ratio": 1e308}, ValueError, "gives an MLP of width"),
    ({"mlp_ratio": 0.01}, ValueError, "mlp_ratio 0.01 gives an MLP of width 0"),
    ({"mlp_ratio": [4]}, TypeError, "mlp_ratio must be a real number, got [4] (list)"),
])
def test_every_bad_field_is_named_with_its_value(change, error, fragment):
    with pytest.raises(error) as info:
        GPTConfig(**{**SMALL, **change})
    assert fragment in str(info.value)
    with pytest.raises(error) as info:  # the same rule for the positional GPT signature
        GPT(**{**SMALL, **change})
    assert fragment in str(info.value)
    with pytest.raises(error) as info:  # and for a config read from a file, which is named
        GPTConfig.from_dict({**SMALL, **change}, source="run.safetensors")
    assert "run.safetensors" in str(info.value) and fragment in str(info.value)


def test_from_dict_names_missing_and_unknown_fields():
    with pytest.raises(ValueError, match=r"f\.json: the model config is missing \['num_heads'\]"):
        GPTConfig.from_dict({k: v for k, v in SMALL.items() if k != "num_heads"}, source="f.json")
    with pytest.raises(ValueError, match=r"f\.json: unknown model config field\(s\) \['n_embed'\]"):
        GPTConfig.from_dict({**SMALL, "n_embed": 8}, source="f.json")
    with pytest.raises(TypeError, match="f.json: GPTConfig: give n_embd or embed_dim, not both"):
        GPTConfig.from_dict({**SMALL, "n_embd": 8}, source="f.json")
    with pytest.raises(ValueError, match=r"the model config is missing \['n_head'\]"):
        GPTConfig.from_dict({"vocab_size": 5, "n_embd": 8, "n_layer": 1})
    with pytest.raises(TypeError, match="f.json: the model config must be a dict, got list"):
        GPTConfig.from_dict([1, 2], source="f.json")


def test_config_is_frozen():
    config = GPTConfig(**SMALL)
    with pytest.raises(AttributeError):
        config.num_layers = 3


def test_checkpoint_stores_the_config_and_load_pretrained_rebuilds_the_model(tmp_path):
    tinytorch.manual_seed(0)
    tok = CharTokenizer().build_vocab("abcdefghij")
    model = GPT(GPTConfig(**SMALL, mlp_ratio=3, layer_norm_eps=1e-6))
    path = save_checkpoint(tmp_path / "m.safetensors", model, tokenizer=tok)
    assert load_checkpoint(path)["model_config"] == model.config

    loaded, tokenizer = tinytorch.load_pretrained(path)
    assert loaded.config == model.config and tokenizer == tok and not loaded.training
    ids = np.array([tok.encode("abcab")])
    model.eval()
    assert np.array_equal(loaded(ids).data, model(ids).data)


def test_load_pretrained_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.safetensors"):
        tinytorch.load_pretrained(tmp_path / "nothing.safetensors")


def test_nanogpt_names_are_the_fields_and_tinytorch_names_are_aliases():
    """One name per concept (nanoGPT's); TinyTorch's spellings construct and read the same config."""
    ours = GPTConfig(vocab_size=11, n_embd=8, n_layer=2, n_head=2, block_size=16)
    assert ours == GPTConfig(**SMALL) == GPTConfig(11, 8, 2, 2, 16)
    assert ours.to_dict() == {"vocab_size": 11, "n_embd": 8, "n_layer": 2, "n_head": 2, "block_size": 16,
                              "dropout": 0.0, "mlp_ratio": 4, "layer_norm_eps": 1e-5}
    assert (ours.embed_dim, ours.num_layers, ours.num_heads, ours.max_seq_len) == (8, 2, 2, 16)
    assert GPTConfig.from_dict(SMALL) == ours  # checkpoints written with TinyTorch's names still load
    with pytest.raises(TypeError, match="give block_size or max_seq_len, not both"):
        GPTConfig(vocab_size=11, block_size=16, max_seq_len=16)
    with pytest.raises(TypeError, match="unexpected keyword argument 'seq_len'"):
        GPTConfig(vocab_size=11, seq_len=16)
    with pytest.raises(ValueError, match="n_embd 8 is not divisible by n_head 3"):
        GPTConfig(11, n_embd=8, n_head=3)
