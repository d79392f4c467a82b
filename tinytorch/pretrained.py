"""`load_pretrained`: a trained GPT and its tokenizer from a checkpoint file, ready to generate.

A checkpoint is untrusted input: the config it claims is checked against the tensors it actually
holds (block count, embedding and MLP shapes) before a model is built, so the memory and time a
load costs are bounded by the file's size, not by what its metadata says.
"""

from __future__ import annotations

import os
import re

from .training.checkpoint import CheckpointFile, restore_checkpoint
from .nn.config import TINYTORCH_NAMES, GPTConfig, check_block_count
from .runtime.fileio import as_path

_BLOCK = re.compile(r"model\.blocks\.(\d{1,9})\.")  # longer numbers are not blocks (and int() limits them)


def load_pretrained(path):
    """(model, tokenizer) from a tinytorch .safetensors checkpoint, or a Hugging Face GPT-2 folder.

    The model is in eval mode. Any problem with the file is a ValueError (or FileNotFoundError)
    naming the path and the field.
    """
    path = as_path(path, "load_pretrained")
    if os.path.isdir(path):
        from .hf import load_gpt2_directory

        return load_gpt2_directory(path)
    model, tokenizer, _ = load_gpt_checkpoint(path)
    return model, tokenizer


def load_gpt_checkpoint(path, check_vocab: bool = True):
    """(GPT in eval mode, tokenizer, metadata) from a checkpoint; the global RNG is left alone.

    With `check_vocab`, a model and a tokenizer of different vocabulary sizes are a ValueError.
    """
    from .nn.transformer import GPT

    path = as_path(path, "load_pretrained")
    with CheckpointFile(path) as f:  # one open handle: the header and the weights come from the same file
        meta = f.meta
        tokenizer = checkpoint_tokenizer(path, meta)
        config = checkpoint_gpt_config(path, meta, tokenizer.vocab_size)
        if check_vocab and config.vocab_size != tokenizer.vocab_size:
            raise ValueError(f"'{path}' is inconsistent: model vocabulary {config.vocab_size} but tokenizer "
                             f"vocabulary {tokenizer.vocab_size}")
        model = GPT(config)
        restore_checkpoint(path, meta, f.arrays(("model.",)), model, restore_rng=False)
    model.eval()
    return model, tokenizer, meta


def checkpoint_tokenizer(path: str, meta: dict):
    """The tokenizer stored in a checkpoint's metadata, validated."""
    from .text.tokenization import Tokenizer

    if not isinstance(meta.get("tokenizer"), dict):
        raise ValueError(f"'{path}' holds no tokenizer: cannot turn text into the model's token ids")
    try:
        return Tokenizer.from_dict(meta["tokenizer"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"'{path}' has an unreadable tokenizer: {str(exc):.300}") from None


def checkpoint_gpt_config(path: str, meta: dict, vocab_size: int | None = None) -> GPTConfig:
    """The checkpoint's GPTConfig, confirmed by the shapes of the tensors in the file.

    Reads `model_config`, or for older files the `model` entry of `tinytorch train`'s config or the
    copilot's flat config (with `vocab_size` from the tokenizer when absent).
    """
    config = meta.get("model_config")
    if config is None:
        config = _legacy_config(path, meta.get("config"), vocab_size)
    check_config_against_tensors(path, config, meta["shapes"])
    return config


def _legacy_config(path: str, stored, vocab_size: int | None) -> GPTConfig:
    if not isinstance(stored, dict):
        raise ValueError(f"'{path}' has no model configuration: it was not written for a GPT")
    model = stored.get("model", stored)  # tinytorch train: {"model": {...}}; copilot: the fields directly
    if not isinstance(model, dict):
        raise ValueError(f"'{path}' has a malformed model configuration {model!r:.80}")
    known = set(GPTConfig.__dataclass_fields__) | set(TINYTORCH_NAMES)  # older files spell fields TinyTorch's way
    fields = {k: v for k, v in model.items() if k in known}
    if vocab_size is not None:
        fields.setdefault("vocab_size", vocab_size)
    return GPTConfig.from_dict(fields, source=f"'{path}' model config")


def check_config_against_tensors(path: str, config: GPTConfig, shapes: dict) -> None:
    """ValueError unless the file holds exactly `num_layers` blocks and the shapes `config` implies.

    Only then is building the model safe: every size it allocates is one the file's data confirms.
    """
    check_block_count(shapes, _BLOCK, config.num_layers, f"'{path}'")
    c, hidden = config.embed_dim, config.hidden_dim
    expected = {"token_embedding.weight": (config.vocab_size, c), "position_embedding.weight": (config.max_seq_len, c),
                "lm_head.weight": (c, config.vocab_size)}
    for i in range(config.num_layers):
        expected[f"blocks.{i}.mlp.linear1.weight"] = (c, hidden)
    for name, shape in expected.items():
        found = shapes.get(f"model.{name}")
        if found != shape:
            raise ValueError(f"'{path}': the config {config} implies '{name}' of shape {shape}, "
                             f"but the file has {'none' if found is None else found}")
