"""Tokenizers made from, and ids made of, a text read block by block: memory stays at a few blocks, not the corpus.

A character vocabulary comes from code-point counts (optionally capped); a BPE tokenizer from piece
counts. Encoding yields one id array per block; BPE carries the last piece of each block into the next,
so no piece is cut at a block edge and the ids equal `tokenizer.encode(whole text)`.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..text.bpe import BPETokenizer, capped_pieces
from ..text.tokenization import CharTokenizer
from ..text.char_table import id_dtype
from ..text.char_vocab import choose_chars, count_chars

# How a tokenizer is made from the text: {"kind": "char", "max_vocab": N | None, "min_count": M}
# or {"kind": "bpe", "vocab_size": N}. Stored with the ids, so a later run with the same recipe reuses both.


def char_recipe(max_vocab: int | None = None, min_count: int = 1) -> dict:
    return {"kind": "char", "max_vocab": max_vocab, "min_count": min_count}


def bpe_recipe(vocab_size: int) -> dict:
    return {"kind": "bpe", "vocab_size": vocab_size}


class ByteProgress:
    """Passed to `TextSource.blocks` as its hasher: advances `status` by the bytes read."""

    def __init__(self, status):
        self.status = status

    def update(self, raw: bytes) -> None:
        self.status.update(len(raw))


def build_tokenizer(source, recipe: dict, status) -> tuple:
    """(tokenizer, note) for `recipe` from the text of `source`; note says what a capped vocabulary dropped."""
    if recipe["kind"] == "char":
        status.step("counting characters", source.size)
        counts = count_chars(source.blocks(ByteProgress(status)))
        choice = choose_chars(counts, recipe.get("max_vocab"), recipe.get("min_count", 1))
        status.close()
        return CharTokenizer(choice.kept), choice.describe()
    if recipe["kind"] == "bpe":
        status.step("counting BPE pieces", source.size)
        pieces = Counter()
        for block in _piece_blocks(source.blocks(ByteProgress(status)), capped_pieces):
            pieces.update(block)
        status.step("learning BPE merges", recipe["vocab_size"] - 256, unit="merges")
        done = [0]

        def progress(n, _total):
            status.update(n - done[0])
            done[0] = n

        tokenizer = BPETokenizer(recipe["vocab_size"]).train_from_counts(pieces, progress=progress)
        status.close()
        return tokenizer, ""
    raise ValueError(f"unknown tokenizer kind {recipe['kind']!r}; expected 'char' or 'bpe'")


def _piece_blocks(blocks, split):
    """Lists of pieces covering the text of `blocks` in order, none cut at a block edge: each block's last piece
    starts the next block's text (the split pattern only looks one character past a piece)."""
    carry = ""
    for block in blocks:
        text = carry + block
        if not text:
            continue
        pieces = split(text)
        carry = pieces.pop() if pieces else ""
        yield pieces
    if carry:
        yield split(carry)


def encode_blocks(source, tokenizer, read=None):
    """Id arrays (the smallest dtype for the vocabulary) whose concatenation is `tokenizer.encode(text)`;
    `read.update(raw)` sees the bytes as they are read (a hasher or `ByteProgress`)."""
    dtype = id_dtype(tokenizer.vocab_size)
    if isinstance(tokenizer, CharTokenizer):
        table = tokenizer.char_table
        for block in source.blocks(read):
            yield table.encode(block).astype(dtype, copy=False)
    elif isinstance(tokenizer, BPETokenizer) and not tokenizer.special_tokens:
        for pieces in _piece_blocks(source.blocks(read), tokenizer.pieces):
            yield np.array(tokenizer.encode_pieces(pieces, []), dtype=dtype)
    else:  # another tokenizer: one call on the whole text
        yield np.array(tokenizer.encode("".join(source.blocks(read))), dtype=dtype)


__all__ = ["ByteProgress", "char_recipe", "bpe_recipe", "build_tokenizer", "encode_blocks"]
