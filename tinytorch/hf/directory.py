"""A Hugging Face GPT-2 directory: write one from our model and tokenizer, read one into them.

The directory holds config.json, model.safetensors, tokenizer.json, tokenizer_config.json and
special_tokens_map.json, which `GPT2LMHeadModel.from_pretrained` and `AutoTokenizer.from_pretrained`
load. The folder is written atomically as a whole (aside, then swapped in); only a new or empty
directory, or an earlier tinytorch export (its model.safetensors carries our mark), is replaced.
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np

from ..runtime.fileio import atomic_write, short_list
from ..nn.transformer import GPT
from .config import config_from_gpt2, gpt2_config, read_json
from .tokenizer import load_tokenizer, special_ids, tokenizer_config, tokenizer_json
from .weights import check_gpt2_tensors, from_gpt2_tensors, is_buffer, is_tied, to_gpt2_tensors

#: The files `save_pretrained` writes.
EXPORT_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json")
#: model.safetensors metadata of an export ("format" is what transformers requires).
EXPORT_METADATA = {"format": "pt", "written_by": "tinytorch save_pretrained"}


def _is_earlier_export(directory: str, entries: list) -> bool:
    """True when `directory` holds only export files and its weights carry our mark."""
    from safetensors import SafetensorError, safe_open

    if not set(entries) <= set(EXPORT_FILES) or "model.safetensors" not in entries:
        return False
    try:
        with safe_open(os.path.join(directory, "model.safetensors"), framework="numpy") as f:
            return (f.metadata() or {}).get("written_by") == EXPORT_METADATA["written_by"]
    except (SafetensorError, OSError):
        return False


def _check_directory(directory: str) -> None:
    """Refuse a file, or a non-empty directory that is not an earlier export (never overwrite user files)."""
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ValueError(f"save_pretrained: '{directory}' is a file, not a directory")
    if os.path.isdir(directory):
        entries = sorted(os.listdir(directory))
        if entries and not _is_earlier_export(directory, entries):
            raise ValueError(f"save_pretrained: '{directory}' is not empty ({short_list(entries)}) and is not an "
                             f"earlier tinytorch export; choose a new or empty directory")
    else:
        parent = os.path.dirname(os.path.abspath(directory))
        if not os.path.isdir(parent):
            raise ValueError(f"save_pretrained: the parent folder '{parent}' of '{directory}' does not exist")


def save_pretrained(model, tokenizer, directory) -> str:
    """Write `model` and `tokenizer` as a Hugging Face GPT-2 directory; returns its path.

    A head equal to the transposed token embedding is saved tied (no lm_head tensor), as GPT-2 does.
    """
    from safetensors.numpy import save

    directory = os.fspath(directory)
    if not isinstance(model, GPT):
        raise TypeError(f"save_pretrained: model must be a tinytorch GPT, got {type(model).__name__}")
    tok_json = tokenizer_json(tokenizer)  # raises for tokenizers HF cannot express, before any write
    if tokenizer.vocab_size > model.vocab_size:  # fewer is fine: GPT-2 models may pad their vocabulary
        raise ValueError(f"save_pretrained: the tokenizer has {tokenizer.vocab_size} ids but the model only "
                         f"{model.vocab_size}")
    _check_directory(directory)
    tied = is_tied(model)
    tok_config = tokenizer_config(tokenizer, model.max_seq_len)
    files = {
        "config.json": json.dumps(gpt2_config(model.config, tied, special_ids(tokenizer)), indent=2),
        "model.safetensors": save(to_gpt2_tensors(model, tied), metadata=EXPORT_METADATA),
        "tokenizer.json": json.dumps(tok_json, ensure_ascii=False),
        "tokenizer_config.json": json.dumps(tok_config, indent=2, ensure_ascii=False),
        "special_tokens_map.json": json.dumps({k: v for k, v in tok_config.items() if k.endswith("_token")},
                                              ensure_ascii=False),
    }
    _write_folder(directory, files)
    return directory


def _write_folder(directory: str, files: dict) -> None:
    """Write `files` into a new sibling folder, then swap it in: a failure (disk full) leaves an earlier
    export exactly as it was and no partial folder behind, so the retry works."""
    import shutil
    import uuid

    parent, name = os.path.split(os.path.abspath(directory))
    aside = os.path.join(parent, f".{name}.{uuid.uuid4().hex}.tmp")
    old = os.path.join(parent, f".{name}.{uuid.uuid4().hex}.old")
    try:
        os.mkdir(aside)
        for file_name, data in files.items():
            atomic_write(os.path.join(aside, file_name), data)
        if os.path.isdir(directory):
            os.rename(directory, old)  # the earlier export (or an empty folder) steps aside...
            try:
                os.rename(aside, directory)  # ...and the complete new one takes its name
            except BaseException:
                os.rename(old, directory)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(aside, directory)
    finally:
        shutil.rmtree(aside, ignore_errors=True)


_FLOAT_DTYPES = ("F32", "F16", "BF16", "F64")  # every one widens (or narrows, F64) to float32 as transformers' float32 does


def _read_tensors(path: str, config, tied: bool) -> dict:
    """The float32 tensors of `path` (one open handle), checked by name, shape and type before any is read."""
    from ..runtime.safetensors_file import SafetensorsFile

    try:
        with SafetensorsFile(path, "load_gpt2_directory") as f:
            absent = check_gpt2_tensors({name: f.shape(name) for name in f.keys()}, config, tied, path)
            names = [name for name in f.keys() if not is_buffer(name)]
            for name in names:
                if f.dtype_name(name) not in _FLOAT_DTYPES:
                    raise ValueError(f"{path}: tensor '{name}' is {f.dtype_name(name)}; tinytorch reads "
                                     f"{'/'.join(_FLOAT_DTYPES)} weights")
            tensors = {name: f.tensor(name).astype(np.float32, copy=False) for name in names}
    except ValueError as exc:
        message = str(exc)
        raise ValueError(message if message.startswith(path) else f"{path}: not a readable safetensors file "
                                                                  f"({message})") from None
    if absent:
        warnings.warn(f"{path}: no {short_list(absent)}; they are 0 (biases) and 1 (layer-norm scales), as "
                      f"transformers initialises tensors a file lacks", stacklevel=3)
    return tensors


def _weights_file(directory: str) -> str:
    """model.safetensors, or a FileNotFoundError/ValueError saying what the folder holds instead."""
    path = os.path.join(directory, "model.safetensors")
    if os.path.isfile(path):
        return path  # transformers also prefers it to a pytorch_model.bin beside it
    if os.path.isfile(os.path.join(directory, "model.safetensors.index.json")):
        raise ValueError(f"load_gpt2_directory: '{directory}' holds a sharded model (model.safetensors.index.json); "
                         f"tinytorch reads one model.safetensors: save it unsharded (max_shard_size larger than it)")
    for name in ("pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack"):
        if os.path.isfile(os.path.join(directory, name)):
            raise ValueError(f"load_gpt2_directory: '{directory}' holds {name}, which tinytorch does not read (a "
                             f"pickle can run code); convert it once with transformers: "
                             f"GPT2LMHeadModel.from_pretrained(DIR).save_pretrained(DIR) writes model.safetensors")
    raise FileNotFoundError(f"load_gpt2_directory: '{directory}' has no model.safetensors")


def load_gpt2_directory(path):
    """(GPT in eval mode, tokenizer) from a Hugging Face GPT-2 directory, tied or untied, ours or GPT-2's.

    config.json is validated like any untrusted file (fields, types, sizes against the tensors);
    the tokenizer comes from tokenizer.json, or vocab.json + merges.txt (GPT-2's byte-level BPE).
    """
    directory = os.fspath(path)
    config_path = os.path.join(directory, "config.json")
    if not os.path.isfile(config_path):
        raise FileNotFoundError(f"load_gpt2_directory: '{directory}' has no config.json")
    weights_path = _weights_file(directory)
    config, tied = config_from_gpt2(read_json(config_path), config_path)
    tensors = _read_tensors(weights_path, config, tied)
    tokenizer = load_tokenizer(directory)
    if tokenizer.vocab_size > config.vocab_size:
        raise ValueError(f"{directory}: the tokenizer has {tokenizer.vocab_size} ids but the model only "
                         f"{config.vocab_size}")
    model = GPT(config)
    model.load_state_dict(from_gpt2_tensors(tensors, config, tied))
    model.eval()
    return model, tokenizer
