"""Tokenizers: the character-level `CharTokenizer`, plus the re-exported base and BPE tokenizers.

`Tokenizer` lives in `tinytorch.text.tokenizer_base`, `BPETokenizer` in `tinytorch.text.bpe`.
"""

from __future__ import annotations

import warnings
from collections import Counter

from .char_table import CharTable
from .bpe import BPETokenizer
from ..runtime.fileio import short_list
from .tokenizer_base import Tokenizer
from ..core.validation import check_bool, check_texts


class CharTokenizer(Tokenizer):
    """One id per character; id 0 is `<UNK>`, which also serves as padding.

    Characters outside the vocabulary encode to 0 (`<UNK>`), and `encode` emits one
    `warnings.warn` naming them, so lossy encoding never passes silently.
    """

    UNK = "<UNK>"
    unk_id = 0
    pad_id = 0

    def __init__(self, vocab=None):
        # a str is its characters; anything else must be a list of one-character strings
        chars = [] if vocab is None else list(vocab) if isinstance(vocab, str) else check_texts(vocab, "vocab", "CharTokenizer")
        if chars and chars[0] == self.UNK:  # a full vocabulary, e.g. `tok.vocab` of another tokenizer
            chars = chars[1:]
        self._set_chars(chars, "CharTokenizer")

    def _set_chars(self, chars: list, where: str) -> None:
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"{where}: vocabulary entries must be single characters, got {c!r:.60}")
        if len(set(chars)) != len(chars):
            dupes = sorted(c for c, n in Counter(chars).items() if n > 1)  # linear: the list may come from a file
            raise ValueError(f"{where}: duplicate characters in the vocabulary: {short_list(dupes)}")
        self.vocab = [self.UNK] + chars
        self.char_to_id = {c: i for i, c in enumerate(self.vocab)}
        self.id_to_char = dict(enumerate(self.vocab))
        self._table = None  # the code-point lookup, built on the first encode

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def build_vocab(self, texts) -> "CharTokenizer":
        """Set the vocabulary to the sorted set of characters in `texts` (a str or a list of str)."""
        texts = check_texts(texts, "texts", "CharTokenizer.build_vocab")
        chars = set().union(*texts) if texts else set()
        if not chars:
            raise ValueError("CharTokenizer.build_vocab: the texts contain no characters")
        self._set_chars(sorted(chars), "CharTokenizer.build_vocab")
        return self

    def encode(self, text: str) -> list[int]:
        """Ids of the characters of `text`; unknown characters become 0 with a warning."""
        if not isinstance(text, str):
            raise TypeError(f"CharTokenizer.encode: expected a str, got {type(text).__name__}")
        ids = self.char_table.encode(text)
        if (ids == self.unk_id).any():
            unknown = self.char_table.unknown(text, ids)
            warnings.warn(f"CharTokenizer.encode: characters not in the vocabulary were encoded as 0 (<UNK>): "
                          f"{''.join(unknown)!r}", stacklevel=2)
        return ids.tolist()

    @property
    def char_table(self) -> CharTable:
        """The vectorized code-point -> id lookup of this vocabulary (`tinytorch.text.char_table`)."""
        if self._table is None:
            self._table = CharTable(self.char_to_id, self.unk_id)
        return self._table

    def decode(self, ids, skip_special: bool = False) -> str:
        """The text for `ids`; id 0 reads `<UNK>`, or is dropped with `skip_special=True`."""
        ids = self._ids_to_decode(ids, "CharTokenizer.decode")
        skip_special = check_bool(skip_special, "skip_special", "CharTokenizer.decode")
        table = self.vocab
        if skip_special:
            return "".join(table[t] for t in ids if t != 0)
        return "".join(table[t] for t in ids)

    def _state(self) -> dict:
        return {"chars": self.vocab[1:]}

    @classmethod
    def _from_state(cls, state: dict) -> "CharTokenizer":
        chars = state.get("chars")
        if not isinstance(chars, list):
            raise ValueError(f"CharTokenizer.from_dict: 'chars' must be a list, got {chars!r:.60}")
        return cls(chars)

    def __eq__(self, other) -> bool:
        return isinstance(other, CharTokenizer) and self.vocab == other.vocab

    __hash__ = None

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


__all__ = ["Tokenizer", "CharTokenizer", "BPETokenizer"]
