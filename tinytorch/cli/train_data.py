"""The data of `tinytorch train`: the text (files, folders, globs) tokenized once into a cached id file
beside the checkpoint, and the train/validation windows read from it through a memory map."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass

from .errors import UserError
from .common import split_tokens
from .train_files import same_file, warn


@dataclass
class Corpus:
    """The tokenizer, the id stream's two parts (memmap views) and the window length that fits them."""

    source: object  # tinytorch.data.sources.TextSource
    tokenizer: object
    train_ids: object
    val_ids: object
    window: int
    cache: str
    reused: bool
    fingerprint: object  # data.sources.Fingerprint: the text's bytes, characters and SHA-256


def text_source(specs):
    """The TextSource of --data (files, folders, globs); a name that matches nothing is a UserError."""
    from ..data.sources import TextSource

    try:
        return TextSource(specs)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def cache_path(checkpoint: str) -> str:
    """NAME.tokens beside NAME.safetensors: the run's token cache."""
    return os.path.splitext(checkpoint)[0] + ".tokens"


def recipe_of(kind: str, bpe_vocab: int, args) -> dict:
    from ..data.tokenize_stream import bpe_recipe, char_recipe

    if kind == "bpe":
        return bpe_recipe(bpe_vocab)
    return char_recipe(args.vocab_size_cap, args.min_char_count)


def load_corpus(source, args, checkpoint: str, kind: str, bpe_vocab: int, block_size: int, tokenizer=None,
                progress: bool = True) -> Corpus:
    """Tokenize `source` (--data) into the cache beside `checkpoint` (or reuse it) and split it 90/10.

    `tokenizer` is the checkpoint's on a resume; otherwise one is made from the text by the recipe.
    """
    from ..data.status import StatusLine
    from ..data.token_file import open_tokens

    cache = cache_path(checkpoint)
    for path in (cache, cache + ".json"):
        if any(same_file(path, f) for f in source.files):
            raise UserError(f"the token cache '{path}' would replace a file of --data; choose another --out")
    status = StatusLine("tinytorch train", enabled=progress)
    recipe = None if tokenizer is not None else recipe_of(kind, bpe_vocab, args)
    try:
        try:
            tokens = open_tokens(cache, source, recipe=recipe, tokenizer=tokenizer, status=status, say=_say)
        except OSError as exc:  # a full or read-only folder: train from a temporary cache instead
            fallback = os.path.join(tempfile.gettempdir(), f"tinytorch-{os.getpid()}-{os.path.basename(cache)}")
            warn(f"cannot write the token cache '{cache}' ({exc.strerror or exc}); using '{fallback}'")
            cache = fallback
            tokens = open_tokens(cache, source, recipe=recipe, tokenizer=tokenizer, status=status, say=_say)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot write the token cache '{cache}': {exc.strerror or exc}") from None
    if tokens.reused:
        print(f"reusing the token cache '{cache}' ({len(tokens):,} tokens)", flush=True)
    if tokens.note:
        print(f"tinytorch train: {tokens.note}", file=sys.stderr, flush=True)
    try:
        if tokenizer is not None and not tokens.reused:
            _check_known(tokens, source)
        train_ids, val_ids, window = split_tokens(tokens.ids, block_size)
    except UserError:
        if not tokens.reused:  # a refused text leaves no cache behind (it may sit in the working folder)
            for path in (cache, cache + ".json"):
                if os.path.exists(path):
                    os.remove(path)
        raise
    return Corpus(source, tokens.tokenizer, train_ids, val_ids, window, cache, tokens.reused, tokens.fingerprint)


def _say(message: str) -> None:
    print(f"token cache: {message}", flush=True)


def _check_known(tokens, source) -> None:
    """On a resume whose text changed: characters the checkpoint's char tokenizer never saw are an error."""
    table = getattr(tokens.tokenizer, "char_table", None)
    if table is None or not (tokens.ids == table.unk_id).any():
        return
    unknown = [c for block in source.blocks() for c in table.unknown(block)]
    unknown = "".join(sorted(set(unknown)))
    raise UserError(f"'{source.describe()}' has {len(unknown)} characters the checkpoint's tokenizer never saw "
                    f"({unknown[:20]!r}); resume with the text it was trained on")


__all__ = ["Corpus", "load_corpus", "cache_path", "text_source"]
