"""A Hugging Face GPT-2 folder means what transformers reads from it, in every combination of config switches
and tensors present: tinytorch's logits equal transformers' where it can compute the same model, and it
refuses with an error naming the switch or tensor where it cannot."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from safetensors.numpy import load_file, save_file  # noqa: E402

from tinytorch.hf import load_gpt2_directory  # noqa: E402

IDS = [1, 5, 7, 60, 3, 0, 33, 12]
VOCAB = 64


def _folder(tmp_path, tied=True, n_inner=None, config=None, tensors=None, dtype=None, seed=0):
    """A random two-layer GPT2LMHeadModel saved by transformers, then its config and tensors edited."""
    torch.manual_seed(seed)
    cfg = transformers.GPT2Config(vocab_size=VOCAB, n_positions=32, n_embd=32, n_layer=2, n_head=4, n_inner=n_inner,
                                  tie_word_embeddings=tied, bos_token_id=None, eos_token_id=None)
    model = transformers.GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():  # biases and layer norms away from their initial 0 and 1, so dropping them shows
        for name, p in model.named_parameters():
            if name.endswith(".bias") or ".ln_" in name:
                p.add_(torch.randn_like(p) * 0.1)
    if dtype is not None:
        model = model.to(dtype)
    model.save_pretrained(tmp_path)
    tokenizer = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
                 "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "[\\s\\S]"}, "behavior": "Isolated",
                                   "invert": False},
                 "post_processor": None, "decoder": {"type": "Fuse"},
                 "model": {"type": "WordLevel", "vocab": {"<UNK>": 0, **{chr(97 + i): 1 + i for i in range(26)}},
                           "unk_token": "<UNK>"}}
    (tmp_path / "tokenizer.json").write_text(json.dumps(tokenizer))
    path = tmp_path / "config.json"
    data = json.loads(path.read_text())
    for key, value in (config or {}).items():
        if value is _DROP:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(json.dumps(data))
    if tensors is not None:
        weights = tmp_path / "model.safetensors"
        arrays = load_file(weights)
        tensors(arrays)
        save_file(arrays, weights, metadata={"format": "pt"})
    return tmp_path


_DROP = object()


def _theirs(folder) -> np.ndarray:
    """transformers' float32 logits (its weights widened to float32, as tinytorch reads them)."""
    model = transformers.GPT2LMHeadModel.from_pretrained(folder, dtype=torch.float32).eval()
    with torch.no_grad():
        return model(torch.tensor([IDS])).logits[0].numpy()


def _ours(folder) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, _ = load_gpt2_directory(folder)
    return model(np.array([IDS])).data[0]


def _head_of_double_wte(t):
    t["lm_head.weight"] = t["transformer.wte.weight"] * 2.0


ACCEPTED = {
    "tied, no lm_head": dict(tied=True),
    "untied, lm_head": dict(tied=False),
    "tie_word_embeddings absent (true), no lm_head": dict(config={"tie_word_embeddings": _DROP}),
    "tied yet an lm_head present (transformers uses it)": dict(tied=True, tensors=_head_of_double_wte),
    "config tied, file untied with its lm_head": dict(tied=False, config={"tie_word_embeddings": True}),
    "scale_attn_weights true": dict(config={"scale_attn_weights": True}),
    "reorder_and_upcast_attn true": dict(config={"reorder_and_upcast_attn": True}),
    "reorder_and_upcast_attn false": dict(config={"reorder_and_upcast_attn": False}),
    "scale_attn_by_inverse_layer_idx false": dict(config={"scale_attn_by_inverse_layer_idx": False}),
    "layer_norm_epsilon 1e-2": dict(config={"layer_norm_epsilon": 1e-2}),
    "layer_norm_epsilon absent": dict(config={"layer_norm_epsilon": _DROP}),
    "n_inner 64 (not 4 x n_embd)": dict(n_inner=64),
    "n_inner 48 (1.5 x n_embd)": dict(n_inner=48),
    "n_inner null": dict(config={"n_inner": None}),
    "activation gelu_new": dict(config={"activation_function": "gelu_new"}),
    "activation gelu_pytorch_tanh": dict(config={"activation_function": "gelu_pytorch_tanh"}),
    "activation gelu_python_tanh": dict(config={"activation_function": "gelu_python_tanh"}),
    "activation gelu_fast": dict(config={"activation_function": "gelu_fast"}),
    "activation gelu_accurate": dict(config={"activation_function": "gelu_accurate"}),
    "n_ctx differs from n_positions": dict(config={"n_ctx": 8}),
    "n_ctx absent": dict(config={"n_ctx": _DROP}),
    "attention biases missing (0)": dict(tensors=lambda t: [t.pop(f"transformer.h.{i}.attn.{n}.bias")
                                                             for i in range(2) for n in ("c_attn", "c_proj")]),
    "MLP biases missing (0)": dict(tensors=lambda t: [t.pop(f"transformer.h.{i}.mlp.{n}.bias")
                                                       for i in range(2) for n in ("c_fc", "c_proj")]),
    "layer norm missing (1 and 0)": dict(tensors=lambda t: [t.pop("transformer.ln_f.weight"),
                                                            t.pop("transformer.h.1.ln_2.bias")]),
    "no 'transformer.' prefix": dict(tensors=lambda t: t.update({k.removeprefix("transformer."): t.pop(k)
                                                                 for k in list(t)})),
    "float16 weights": dict(dtype=torch.float16),
    "bfloat16 weights": dict(dtype=torch.bfloat16),
}


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_accepted_combinations_give_transformers_logits(tmp_path, case):
    folder = _folder(tmp_path, **ACCEPTED[case])
    np.testing.assert_allclose(_ours(folder), _theirs(folder), rtol=1e-4, atol=1e-5)


def test_a_tied_file_with_its_own_head_is_not_tied_to_the_embedding(tmp_path):
    """The case the old reader got wrong: the head came from wte though transformers takes lm_head."""
    folder = _folder(tmp_path, tied=True, tensors=_head_of_double_wte)
    model, _ = load_gpt2_directory(folder)
    wte = load_file(folder / "model.safetensors")["transformer.wte.weight"]
    np.testing.assert_array_equal(model.lm_head.weight.data, 2.0 * wte.T)


def test_missing_biases_are_named_in_a_warning(tmp_path):
    folder = _folder(tmp_path, tensors=lambda t: t.pop("transformer.h.0.attn.c_attn.bias"))
    with pytest.warns(UserWarning, match=r"h\.0\.attn\.c_attn\.bias.*as transformers initialises"):
        load_gpt2_directory(folder)


REFUSED = {
    "scale_attn_weights false": (dict(config={"scale_attn_weights": False}), ValueError, "scale_attn_weights"),
    "scale_attn_weights 1": (dict(config={"scale_attn_weights": 1}), TypeError, "scale_attn_weights must be true or false"),
    "scale_attn_by_inverse_layer_idx true": (dict(config={"scale_attn_by_inverse_layer_idx": True}), ValueError,
                                             "scale_attn_by_inverse_layer_idx"),
    "reorder_and_upcast_attn 'yes'": (dict(config={"reorder_and_upcast_attn": "yes"}), TypeError,
                                      "reorder_and_upcast_attn must be true or false"),
    "tie_word_embeddings null": (dict(config={"tie_word_embeddings": None}), TypeError, "tie_word_embeddings"),
    "add_cross_attention true": (dict(config={"add_cross_attention": True}), ValueError, "add_cross_attention"),
    "activation gelu (erf)": (dict(config={"activation_function": "gelu"}), ValueError, "activation_function 'gelu'"),
    "activation relu": (dict(config={"activation_function": "relu"}), ValueError, "activation_function 'relu'"),
    "activation silu": (dict(config={"activation_function": "silu"}), ValueError, "activation_function 'silu'"),
    "activation quick_gelu": (dict(config={"activation_function": "quick_gelu"}), ValueError, "quick_gelu"),
    "untied without lm_head (transformers: random)": (
        dict(tied=False, tensors=lambda t: t.pop("lm_head.weight")), ValueError, "lm_head.weight"),
    "a weight matrix missing (transformers: random)": (
        dict(tensors=lambda t: t.pop("transformer.h.1.mlp.c_fc.weight")), ValueError, "h.1.mlp.c_fc.weight"),
    "wpe missing (transformers: random)": (dict(tensors=lambda t: t.pop("transformer.wpe.weight")), ValueError,
                                           "wpe.weight"),
    "an extra tensor": (dict(tensors=lambda t: t.update(extra=np.zeros(3, np.float32))), ValueError, "extra"),
    "an extra block": (dict(tensors=lambda t: t.update({"transformer.h.2.ln_1.weight": np.ones(32, np.float32)})),
                       ValueError, "n_layer"),
    "n_positions unlike wpe": (dict(config={"n_positions": 16}), ValueError, "wpe.weight"),
    "n_inner unlike the tensors": (dict(config={"n_inner": 96}), ValueError, "c_fc.weight"),
    "integer weights": (dict(tensors=lambda t: t.update({"transformer.ln_f.bias": np.zeros(32, np.int32)})),
                        ValueError, "ln_f.bias' is I32"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_combinations_name_the_switch_or_tensor(tmp_path, case):
    kwargs, error, fragment = REFUSED[case]
    folder = _folder(tmp_path, **kwargs)
    with pytest.raises(error) as info:
        load_gpt2_directory(folder)
    assert fragment in str(info.value)


def test_pytorch_model_bin_alone_is_refused_with_the_way_out(tmp_path):
    folder = _folder(tmp_path)
    os.remove(folder / "model.safetensors")
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not read")  # never unpickled: the name is enough
    with pytest.raises(ValueError, match="holds pytorch_model.bin, which tinytorch does not read"):
        load_gpt2_directory(folder)


def test_safetensors_is_preferred_to_a_pytorch_model_bin_beside_it(tmp_path):
    folder = _folder(tmp_path)
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not read")
    np.testing.assert_allclose(_ours(folder), _theirs(folder), rtol=1e-4, atol=1e-5)


def test_a_sharded_model_is_refused_by_name(tmp_path):
    folder = _folder(tmp_path)
    os.rename(folder / "model.safetensors", folder / "model-00001-of-00001.safetensors")
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {}}))
    with pytest.raises(ValueError, match="sharded model"):
        load_gpt2_directory(folder)
