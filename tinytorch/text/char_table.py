"""Character encoding as one numpy lookup: text -> code points (via UTF-32) -> ids, no per-character Python loop.

A table indexed by code point holds each character's id; code points past the table, and characters
the vocabulary lacks, read the unknown id.
"""

from __future__ import annotations

import numpy as np


def code_points(text: str) -> np.ndarray:
    """The code points of `text`: uint8 for ASCII text (the common case, and several times faster to count
    and look up), else uint32 (lone surrogates pass through as their values)."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def id_dtype(vocab_size: int) -> np.dtype:
    """The smallest unsigned dtype that holds ids below `vocab_size`: uint16 up to 65,536 symbols."""
    return np.dtype(np.uint16 if vocab_size <= 1 << 16 else np.uint32)


class CharTable:
    """A code-point -> id lookup for a character vocabulary; `unk_id` for everything else."""

    def __init__(self, char_to_id: dict, unk_id: int = 0):
        chars = [c for c in char_to_id if len(c) == 1]  # skips multi-character entries such as '<UNK>'
        self.unk_id = unk_id
        size = max(map(ord, chars), default=0) + 2  # the last entry catches every larger code point
        self.dtype = id_dtype(max(char_to_id.values(), default=0) + 1)
        self.table = np.full(size, unk_id, dtype=self.dtype)
        self.table[[ord(c) for c in chars]] = [char_to_id[c] for c in chars]

    def encode(self, text: str) -> np.ndarray:
        """The ids of the characters of `text`, shape (len(text),), in the table's dtype."""
        cps = code_points(text)
        last = len(self.table) - 1  # code points past the table read its last entry, the unknown id
        if last < np.iinfo(cps.dtype).max:
            cps = np.minimum(cps, cps.dtype.type(last))
        return self.table[cps]

    def unknown(self, text: str, ids: np.ndarray | None = None) -> list[str]:
        """The distinct characters of `text` outside the vocabulary, sorted (pass `ids` from `encode` to reuse them)."""
        ids = self.encode(text) if ids is None else ids
        missing = code_points(text)[ids == self.unk_id]
        return [chr(c) for c in np.unique(missing)]


__all__ = ["CharTable", "code_points", "id_dtype"]
