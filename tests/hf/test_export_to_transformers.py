"""tinytorch -> Hugging Face: `save_pretrained` writes a directory transformers loads with our logits and ids."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.hf import load_gpt2_directory

from hf_helpers import CORPUS, MIXED, hf_greedy, hf_logits

transformers = pytest.importorskip("transformers")
pytest.importorskip("torch")

TEXT = "".join(CORPUS)


def _tokenizer(kind: str):
    if kind == "char":
        return tt.CharTokenizer().build_vocab(TEXT[:200])  # leaves characters of MIXED unknown on purpose
    return tt.BPETokenizer(vocab_size=330).train(TEXT)


def _ours_ids(tokenizer, text: str) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the char tokenizer warns about the unknown characters
        return tokenizer.encode(text)


@pytest.fixture(params=["char", "bpe"])
def exported(request, tmp_path):
    tt.manual_seed(3)
    tokenizer = _tokenizer(request.param)
    model = tt.GPT(tokenizer.vocab_size, 32, 2, 4, max_seq_len=96)
    directory = tt.save_pretrained(model, tokenizer, tmp_path / "export")
    return model.eval(), tokenizer, directory


def test_transformers_loads_our_model_with_our_logits(exported):
    model, tokenizer, directory = exported
    hf = transformers.GPT2LMHeadModel.from_pretrained(directory).eval()
    ids = _ours_ids(tokenizer, MIXED)[:96]
    ours = model(np.array([ids])).data[0]
    np.testing.assert_allclose(hf_logits(hf, ids), ours, atol=1e-4, rtol=0)
    assert hf.config.tie_word_embeddings is False and hf.config.activation_function == "gelu_new"


def test_transformers_tokenizer_gives_our_ids_and_text(exported):
    _, tokenizer, directory = exported
    hf_tok = transformers.AutoTokenizer.from_pretrained(directory)
    ids = _ours_ids(tokenizer, MIXED)
    assert hf_tok(MIXED)["input_ids"] == ids
    assert hf_tok.decode(ids) == tokenizer.decode(ids)
    if isinstance(tokenizer, tt.CharTokenizer):
        assert 0 in ids  # the string really exercised unknown characters


def test_greedy_generation_matches_transformers(exported):
    model, tokenizer, directory = exported
    hf = transformers.GPT2LMHeadModel.from_pretrained(directory).eval()
    prompt = _ours_ids(tokenizer, "def add(a, b):")
    ours = model.generate(np.array(prompt), 25, temperature=0.0)
    assert list(np.asarray(ours)) == hf_greedy(hf, prompt, 25)


def test_round_trip_through_the_directory_is_exact(exported):
    model, tokenizer, directory = exported
    back, back_tokenizer = load_gpt2_directory(directory)
    assert back_tokenizer == tokenizer
    assert back.config == model.config
    for (name, a), (name_b, b) in zip(model.state_dict().items(), back.state_dict().items()):
        assert name == name_b and np.array_equal(a, b), name


def test_head_equal_to_the_embedding_is_saved_tied(tmp_path):
    tokenizer = _tokenizer("char")
    model = tt.GPT(tokenizer.vocab_size, 16, 1, 2, max_seq_len=32)
    model.lm_head.weight.data[...] = model.token_embedding.weight.data.T
    directory = tt.save_pretrained(model, tokenizer, tmp_path / "tied")
    config = json.loads((tmp_path / "tied" / "config.json").read_text())
    assert config["tie_word_embeddings"] is True
    hf = transformers.GPT2LMHeadModel.from_pretrained(directory).eval()
    ids = _ours_ids(tokenizer, "def add(a, b):")
    np.testing.assert_allclose(hf_logits(hf, ids), model.eval()(np.array([ids])).data[0], atol=1e-4, rtol=0)
