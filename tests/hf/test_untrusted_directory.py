"""A Hugging Face directory is untrusted input, and an export never destroys a user's files (no transformers needed)."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.hf import EXPORT_FILES, load_gpt2_directory


@pytest.fixture
def directory(tmp_path):
    tt.manual_seed(0)
    tokenizer = tt.CharTokenizer().build_vocab("abcdef ghij\n")
    model = tt.GPT(tokenizer.vocab_size, 16, 2, 2, max_seq_len=32)
    return tt.save_pretrained(model, tokenizer, tmp_path / "model")


def _edit_json(directory, name, edit):
    path = os.path.join(directory, name)
    with open(path) as f:
        data = json.load(f)
    edit(data)
    with open(path, "w") as f:
        json.dump(data, f)


def _edit_config(directory, **changes):
    _edit_json(directory, "config.json", lambda config: config.update(changes))


def _edit_tensors(directory, edit):
    from safetensors.numpy import load_file, save_file

    path = os.path.join(directory, "model.safetensors")
    tensors = load_file(path)
    edit(tensors)
    save_file(tensors, path, metadata={"format": "pt"})


@pytest.mark.parametrize("changes, error, fragments", [
    ({"n_embd": "16"}, TypeError, ["embed_dim", "'16'"]),
    ({"vocab_size": 0}, ValueError, ["vocab_size", "0"]),
    ({"n_head": 3}, ValueError, ["divisible", "3"]),
    ({"activation_function": "relu"}, ValueError, ["activation_function", "relu"]),
    ({"model_type": "llama"}, ValueError, ["model_type", "llama"]),
    ({"scale_attn_by_inverse_layer_idx": True}, ValueError, ["scale_attn_by_inverse_layer_idx"]),
    ({"tie_word_embeddings": "no"}, TypeError, ["tie_word_embeddings"]),
    ({"n_inner": 40}, ValueError, ["mlp.c_fc.weight", "(16, 40)"]),
    ({"n_embd": 32, "n_head": 2}, ValueError, ["wte.weight", "(13, 32)"]),
    ({"n_positions": 10**9}, ValueError, ["wpe.weight", "1000000000"]),
])
def test_bad_config_is_a_clear_error_naming_the_file_and_field(directory, changes, error, fragments):
    _edit_config(directory, **changes)
    with pytest.raises(error) as info:
        load_gpt2_directory(directory)
    message = str(info.value)
    assert "config.json" in message or "model.safetensors" in message
    for fragment in fragments:
        assert fragment in message


def test_a_claimed_billion_layers_fails_at_once(directory):
    _edit_config(directory, n_layer=10**9)
    start = time.perf_counter()
    with pytest.raises(ValueError, match="claims n_layer 1000000000 but the file holds 2 block"):
        load_gpt2_directory(directory)
    assert time.perf_counter() - start < 30  # a hang limit, not a speed target


def test_config_that_is_not_json_names_the_file(directory):
    with open(os.path.join(directory, "config.json"), "w") as f:
        f.write("{not json")
    with pytest.raises(ValueError, match=r"config\.json: not valid JSON"):
        load_gpt2_directory(directory)


def test_untied_model_without_a_head_is_refused(directory):
    _edit_tensors(directory, lambda t: t.pop("lm_head.weight"))
    with pytest.raises(ValueError, match="missing tensors.*lm_head.weight"):
        load_gpt2_directory(directory)


def test_tied_model_takes_its_head_from_the_embedding(directory):
    _edit_tensors(directory, lambda t: t.pop("lm_head.weight"))
    _edit_config(directory, tie_word_embeddings=True)
    model, _ = load_gpt2_directory(directory)
    assert np.array_equal(model.lm_head.weight.data, model.token_embedding.weight.data.T)


def test_unknown_tensor_is_refused_but_gpt2_mask_buffers_are_not(directory):
    def add_buffers(t):
        t["transformer.h.0.attn.bias"] = np.tril(np.ones((1, 1, 32, 32), np.float32))
        t["h.1.attn.masked_bias"] = np.array(-1e4, np.float32)
    _edit_tensors(directory, add_buffers)
    load_gpt2_directory(directory)
    _edit_tensors(directory, lambda t: t.update({"transformer.h.0.attn.c_q.weight": np.zeros((2, 2), np.float32)}))
    with pytest.raises(ValueError, match="h.0.attn.c_q.weight"):
        load_gpt2_directory(directory)


def test_missing_weights_file_is_file_not_found(directory):
    os.remove(os.path.join(directory, "model.safetensors"))
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_gpt2_directory(directory)


def test_tokenizer_larger_than_the_model_is_refused(directory):
    def add_token(data):
        data["model"]["vocab"]["Z"] = len(data["model"]["vocab"])

    _edit_json(directory, "tokenizer.json", add_token)
    with pytest.raises(ValueError, match="the tokenizer has 14 ids but the model only 13"):
        load_gpt2_directory(directory)


def test_export_never_writes_into_a_folder_with_other_files(tmp_path):
    tokenizer = tt.CharTokenizer().build_vocab("abc")
    model = tt.GPT(tokenizer.vocab_size, 8, 1, 2, max_seq_len=8)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty.*notes.txt.*not an earlier tinytorch export"):
        tt.save_pretrained(model, tokenizer, tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"] and (tmp_path / "notes.txt").read_text() == "mine"
    with pytest.raises(ValueError, match="is a file"):
        tt.save_pretrained(model, tokenizer, tmp_path / "notes.txt")


def test_files_with_export_names_are_not_mistaken_for_an_export(tmp_path):
    """A user's checkpoint named model.safetensors, or another tool's config.json, is never overwritten."""
    tokenizer = tt.CharTokenizer().build_vocab("abc")
    model = tt.GPT(tokenizer.vocab_size, 8, 1, 2, max_seq_len=8)
    for name in ("model.safetensors", "config.json"):
        folder = tmp_path / name.split(".")[0]
        folder.mkdir()
        (folder / name).write_bytes(b"the user's own file")
        with pytest.raises(ValueError, match="not an earlier tinytorch export"):
            tt.save_pretrained(model, tokenizer, folder)
        assert os.listdir(folder) == [name] and (folder / name).read_bytes() == b"the user's own file"


def test_export_replaces_an_earlier_export_atomically(directory):
    tokenizer = tt.CharTokenizer().build_vocab("abcdef ghij\n")
    model = tt.GPT(tokenizer.vocab_size, 16, 1, 2, max_seq_len=16)
    tt.save_pretrained(model, tokenizer, directory)
    assert sorted(os.listdir(directory)) == sorted(EXPORT_FILES)  # no temporary files left behind
    assert load_gpt2_directory(directory)[0].config == model.config


def test_bad_arguments_fail_before_anything_is_written(tmp_path):
    tokenizer = tt.CharTokenizer().build_vocab("abc")
    model = tt.GPT(tokenizer.vocab_size - 1, 8, 1, 2, max_seq_len=8)
    with pytest.raises(ValueError, match="the tokenizer has 4 ids but the model only 3"):
        tt.save_pretrained(model, tokenizer, tmp_path / "out")
    with pytest.raises(TypeError, match="must be a tinytorch GPT"):
        tt.save_pretrained(tt.Linear(2, 2), tokenizer, tmp_path / "out")
    with pytest.raises(TypeError, match="cannot export a str; expected a CharTokenizer or a BPETokenizer"):
        tt.save_pretrained(model, "abc", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bfloat16_weights_are_widened_to_float32_exactly(directory):
    """numpy has no bfloat16: its 16 bits are read and widened to the float32 they stand for (file built by hand)."""
    from safetensors.numpy import load_file

    path = os.path.join(directory, "model.safetensors")
    tensors, header, chunks, offset = load_file(path), {"__metadata__": {"format": "pt"}}, [], 0
    for name, array in tensors.items():
        data = array.astype(np.float32).tobytes()
        dtype = "F32"
        if name == "transformer.wte.weight":  # bfloat16: the high half of each float32
            data, dtype = (array.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16).tobytes(), "BF16"
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    blob = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(len(blob).to_bytes(8, "little") + blob + b"".join(chunks))
    wte = tensors["transformer.wte.weight"].astype(np.float32)
    model, _ = load_gpt2_directory(directory)
    expected = ((wte.view(np.uint32) >> 16) << 16).view(np.float32)  # the bfloat16 values, as float32
    assert np.array_equal(model.token_embedding.weight.data, expected)
    assert not np.array_equal(expected, wte)  # the file really held fewer bits than float32


def test_word_level_tokenizer_must_split_every_character(directory):
    _edit_json(directory, "tokenizer.json", lambda data: data.update(pre_tokenizer={"type": "Whitespace"}))
    with pytest.raises(ValueError, match="tokenizer.json: a WordLevel tokenizer loads as a CharTokenizer only"):
        load_gpt2_directory(directory)
