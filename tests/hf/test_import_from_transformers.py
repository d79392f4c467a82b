"""Hugging Face -> tinytorch: GPT-2 models and byte-level tokenizers made by transformers load and agree."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.text.bytelevel import GPT2_SPLIT_PATTERN
from tinytorch.text.tokenization import Tokenizer
from tinytorch.hf import load_gpt2_directory

from hf_helpers import MIXED, fast_tokenizer, gpt2_model, hf_greedy, hf_logits, train_gpt2_style_tokenizer

transformers = pytest.importorskip("transformers")
pytest.importorskip("torch")
pytest.importorskip("tokenizers")


@pytest.fixture(scope="module")
def hf_tokenizer():
    return train_gpt2_style_tokenizer()


@pytest.fixture(params=[True, False], ids=["tied", "untied"])
def hf_directory(request, tmp_path, hf_tokenizer):
    """A directory written by transformers' own save_pretrained: model and tokenizer."""
    hf = gpt2_model(hf_tokenizer.get_vocab_size(), tied=request.param)
    hf.save_pretrained(tmp_path)
    fast_tokenizer(hf_tokenizer).save_pretrained(tmp_path)
    return hf, tmp_path


def test_logits_match_transformers(hf_directory):
    hf, directory = hf_directory
    model, tokenizer = load_gpt2_directory(directory)
    ids = tokenizer.encode(MIXED)[:64]
    np.testing.assert_allclose(model(np.array([ids])).data[0], hf_logits(hf, ids), atol=1e-4, rtol=0)


def test_tied_file_has_no_head_and_untied_file_has_one(hf_directory):
    hf, directory = hf_directory
    from safetensors import safe_open

    with safe_open(str(directory / "model.safetensors"), framework="numpy") as f:
        assert ("lm_head.weight" in f.keys()) is (not hf.config.tie_word_embeddings)
    model, _ = load_gpt2_directory(directory)
    tied = np.array_equal(model.lm_head.weight.data.T, model.token_embedding.weight.data)
    assert tied is hf.config.tie_word_embeddings


def test_greedy_generation_equals_transformers_token_for_token(hf_directory):
    hf, directory = hf_directory
    model, tokenizer = load_gpt2_directory(directory)
    prompt = tokenizer.encode("def add(a, b):")
    for use_cache in (True, False):
        ours = model.generate(np.array(prompt), 30, temperature=0.0, use_cache=use_cache)
        assert list(np.asarray(ours)) == hf_greedy(hf, prompt, 30)


def test_byte_level_tokenizer_gives_transformers_ids(hf_directory, hf_tokenizer):
    _, directory = hf_directory
    _, tokenizer = load_gpt2_directory(directory)
    assert tokenizer.split_pattern == GPT2_SPLIT_PATTERN
    hf_tok = transformers.AutoTokenizer.from_pretrained(directory)
    text = MIXED + "<|endoftext|>next"
    ids = tokenizer.encode(text)
    assert ids == hf_tok(text)["input_ids"] == hf_tokenizer.encode(text).ids
    assert tokenizer.special_tokens["<|endoftext|>"] in ids
    assert tokenizer.decode(ids) == text


def test_vocab_json_and_merges_txt_load_like_tokenizer_json(tmp_path, hf_tokenizer, hf_directory):
    """GPT-2's older files: vocab.json + merges.txt (no tokenizer.json)."""
    _, directory = hf_directory
    hf_tokenizer.model.save(str(tmp_path))  # writes vocab.json and merges.txt
    for name in ("config.json", "model.safetensors"):
        (tmp_path / name).write_bytes((directory / name).read_bytes())
    _, tokenizer = load_gpt2_directory(tmp_path)
    _, from_json = load_gpt2_directory(directory)
    assert tokenizer == from_json
    assert tokenizer.encode(MIXED) == hf_tokenizer.encode(MIXED).ids


def test_loaded_tokenizer_survives_a_checkpoint_round_trip(hf_directory):
    """A GPT-2 vocabulary (its own id order, special tokens) is stored in checkpoints like ours."""
    _, directory = hf_directory
    _, tokenizer = load_gpt2_directory(directory)
    again = Tokenizer.from_dict(json.loads(json.dumps(tokenizer.to_dict())))
    assert again == tokenizer
    assert again.encode(MIXED) == tokenizer.encode(MIXED)


def test_model_brought_here_exports_back_to_transformers(hf_directory, tmp_path):
    hf, directory = hf_directory
    model, tokenizer = load_gpt2_directory(directory)
    out = tt.save_pretrained(model, tokenizer, tmp_path / "again")
    again = transformers.GPT2LMHeadModel.from_pretrained(out).eval()
    assert again.config.tie_word_embeddings is hf.config.tie_word_embeddings
    ids = tokenizer.encode(MIXED)[:64]
    np.testing.assert_allclose(hf_logits(again, ids), hf_logits(hf, ids), atol=1e-5, rtol=0)
    assert transformers.AutoTokenizer.from_pretrained(out)(MIXED)["input_ids"] == tokenizer.encode(MIXED)


def test_padded_vocabulary_loads_and_exports_back(tmp_path, hf_tokenizer):
    """GPT-2 models often round their vocabulary up (50257 -> 50304): more rows than the tokenizer has ids."""
    hf = gpt2_model(hf_tokenizer.get_vocab_size() + 7, tied=True)
    hf.save_pretrained(tmp_path / "padded")
    fast_tokenizer(hf_tokenizer).save_pretrained(tmp_path / "padded")
    model, tokenizer = load_gpt2_directory(tmp_path / "padded")
    assert model.vocab_size == tokenizer.vocab_size + 7
    ids = tokenizer.encode(MIXED)[:64]
    np.testing.assert_allclose(model(np.array([ids])).data[0], hf_logits(hf, ids), atol=1e-4, rtol=0)
    out = tt.save_pretrained(model, tokenizer, tmp_path / "again")
    assert transformers.GPT2LMHeadModel.from_pretrained(out).config.vocab_size == model.vocab_size


def test_the_layout_of_gpt2_on_the_hub_loads(tmp_path, hf_tokenizer):
    """GPT-2's published files: tensor names without 'transformer.', causal-mask buffers, no lm_head,
    merges as 'a b' strings, a config without tie_word_embeddings (GPT-2's default: tied)."""
    from safetensors.numpy import save_file

    hf = gpt2_model(hf_tokenizer.get_vocab_size(), tied=True)
    n = hf.config.n_positions
    tensors = {name.removeprefix("transformer."): t.numpy() for name, t in hf.state_dict().items()
               if name != "lm_head.weight"}
    for i in range(hf.config.n_layer):
        tensors[f"h.{i}.attn.bias"] = np.tril(np.ones((n, n), np.float32))[None, None]
        tensors[f"h.{i}.attn.masked_bias"] = np.array(-1e4, np.float32)
    save_file(tensors, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    config = {k: v for k, v in hf.config.to_dict().items() if k != "tie_word_embeddings"}
    (tmp_path / "config.json").write_text(json.dumps({**config, "n_ctx": n}))
    tokenizer_json = json.loads(hf_tokenizer.to_str())
    tokenizer_json["model"]["merges"] = [" ".join(pair) for pair in tokenizer_json["model"]["merges"]]
    tokenizer_json["post_processor"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False}
    (tmp_path / "tokenizer.json").write_text(json.dumps(tokenizer_json))

    model, tokenizer = tt.load_pretrained(tmp_path)
    ids = tokenizer.encode(MIXED)[:64]
    assert ids == hf_tokenizer.encode(MIXED).ids[:64]
    np.testing.assert_allclose(model(np.array([ids])).data[0], hf_logits(hf, ids), atol=1e-4, rtol=0)
