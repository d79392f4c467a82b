"""Shared pieces of the train, generate and doctor commands: model sizes, text and checkpoint loading."""

from __future__ import annotations

import argparse
import os
from .errors import UserError

CHECKPOINT_KIND = "tinytorch-train"  # config["kind"] of checkpoints written by `tinytorch train`


def _int_at_least(text: str, minimum: int, expected: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    return _int_at_least(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    return _int_at_least(text, 0, "an integer >= 0")


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def read_utf8(path: str, option: str, limit: int | None = None) -> str:
    """The UTF-8 text of regular file `path` (read once, at most `limit` bytes); every problem is a
    UserError naming `option`, the file and the real cause (a device, a FIFO, a symlink loop, a bad byte...)."""
    from ..runtime.fileread import read_utf8_text

    try:
        return read_utf8_text(path, option, limit)
    except (OSError, ValueError) as exc:
        raise UserError(str(exc)) from None


def read_text(path: str) -> str:
    """The UTF-8 text of `path`; a missing, unreadable, non-regular, binary or empty file is a UserError."""
    text = read_utf8(path, "--data")
    if not text.strip():
        raise UserError(f"'{path}' is empty: there is no text to train on")
    if "\x00" in text:
        raise UserError(f"'{path}' contains NUL bytes: it looks binary, not like text")
    return text


def make_tokenizer(kind: str, text: str, bpe_vocab: int):
    """A character tokenizer over the text's characters, or a byte-level BPE of `bpe_vocab` symbols trained on it."""
    from ..text.tokenization import BPETokenizer, CharTokenizer

    if kind == "char":
        return CharTokenizer().build_vocab(text)
    return BPETokenizer(vocab_size=bpe_vocab).train(text)


def unknown_chars(tokenizer, text: str) -> str:
    """Characters of `text` a CharTokenizer would encode as <UNK> ('' for other tokenizers)."""
    lookup = getattr(tokenizer, "char_to_id", None)
    if lookup is None:
        return ""
    return "".join(sorted({c for c in text if c not in lookup}))


def _user_error(call, *args, **kwargs):
    """call(*args) with a bad or unreadable file's error turned into a one-line UserError."""
    try:
        return call(*args, **kwargs)
    except (ValueError, TypeError, OSError) as exc:  # OSError: unreadable (permissions, I/O), missing
        raise UserError(str(exc)) from None


def _from_checkpoint(call, path: str, **kwargs):
    """call(path, **kwargs) for a checkpoint path; a missing path, or a bad or unreadable file, is a UserError."""
    if not os.path.lexists(path):  # a symlink loop exists (and says so when opened)
        raise UserError(f"no such checkpoint: '{path}'")
    return _user_error(call, path, **kwargs)


def read_checkpoint_once(path: str, tensors=("model.", "optim.")) -> tuple:
    """(metadata, arrays) of a checkpoint from one read (nothing restored); problems are UserErrors."""
    from ..training.checkpoint import read_checkpoint

    return _from_checkpoint(read_checkpoint, path, tensors=tensors)


def model_config_of(meta: dict, path: str, vocab_size: int) -> dict:
    """GPT keyword arguments from a checkpoint's metadata, confirmed by the tensors in the file."""
    from ..pretrained import checkpoint_gpt_config

    return _user_error(checkpoint_gpt_config, path, meta, vocab_size).to_dict()


def tokenizer_of(meta: dict, path: str):
    from ..pretrained import checkpoint_tokenizer

    return _user_error(checkpoint_tokenizer, path, meta)


def load_pretrained_model(path: str):
    """(model, tokenizer) from a checkpoint file or a Hugging Face GPT-2 folder, by `tinytorch.load_pretrained`;
    problems are UserErrors."""
    from ..pretrained import load_pretrained

    return _from_checkpoint(load_pretrained, path)


def load_model(path: str, check_vocab: bool = True):
    """(GPT with the checkpoint's weights, tokenizer, metadata); the RNG is left alone.

    With `check_vocab`, a model and tokenizer of different vocabulary sizes are a UserError.
    """
    from ..pretrained import load_gpt_checkpoint

    return _from_checkpoint(load_gpt_checkpoint, path, check_vocab=check_vocab)


def split_tokens(ids: list, seq_len: int, val_fraction: float = 0.1) -> tuple[list, list, int]:
    """(train ids, validation ids, window length): the last 10% of the stream validates.

    The window shrinks (down to 8) when the validation part is too short for a full window.
    """
    n = len(ids)
    n_val = max(int(n * val_fraction), 1)
    window = min(seq_len, n_val - 1, n - n_val - 1)
    if window < 8:
        raise UserError(f"the text is too short: {n} tokens; training needs at least 90 "
                        f"(windows of 8 or more tokens in both the 90% train and 10% validation parts)")
    return ids[: n - n_val], ids[n - n_val:], window
