"""GPT-2's byte-level conventions: the bytes-to-unicode table and its pre-tokenizer, with `re` alone.

GPT-2 writes every byte as a printable character (so a vocabulary of byte strings can live in
JSON) and splits text with a regex using `\\p{L}`/`\\p{N}`, which Python's `re` lacks; we build
the same classes from `unicodedata`, once, when first asked.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache

#: GPT-2's pre-tokenizer, as written in its tokenizer (and stored in our tokenizer state).
GPT2_SPLIT_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

#: Unicode White_Space (what `\s` means to GPT-2's regex engine; Python's `\s` adds U+001C..U+001F).
_WHITE_SPACE = "\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"


@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict:
    """GPT-2's table byte -> printable character: printable Latin-1 bytes map to themselves, the rest
    to characters from U+0100 on, in byte order."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("\xa1"), ord("\xac") + 1), *range(ord("\xae"), ord("\xff") + 1)]
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


@lru_cache(maxsize=1)
def unicode_to_bytes() -> dict:
    """The inverse of `bytes_to_unicode`: printable character -> byte."""
    return {c: b for b, c in bytes_to_unicode().items()}


def token_to_bytes(token: str, where: str) -> bytes:
    """The bytes a GPT-2 vocabulary entry (e.g. 'Ġthe') stands for; a foreign character is a ValueError."""
    table = unicode_to_bytes()
    try:
        return bytes(table[c] for c in token)
    except KeyError as exc:
        raise ValueError(f"{where}: token {token[:40]!r} has the character {exc.args[0]!r}, which is not in "
                         f"GPT-2's byte-to-unicode table") from None


def bytes_to_token(data: bytes) -> str:
    """A byte string written in GPT-2's printable characters (the form its vocab.json uses)."""
    table = bytes_to_unicode()
    return "".join(table[b] for b in data)


def _ranges(codepoints: list) -> str:
    """A regex character-class body for sorted code points, written as ranges."""
    parts, start = [], None
    for i, cp in enumerate(codepoints):
        if start is None:
            start = cp
        if i + 1 == len(codepoints) or codepoints[i + 1] != cp + 1:
            parts.append(re.escape(chr(start)) + ("" if cp == start else "-" + re.escape(chr(cp))))
            start = None
    return "".join(parts)


@lru_cache(maxsize=1)
def gpt2_split_regex() -> re.Pattern:
    """GPT-2's pre-tokenizer compiled for `re`.

    Python's `\\w` is letters, numbers and '_', so `\\p{L}` is `\\w` minus digits, '_' and the
    non-decimal numbers (categories Nl, No), which we list; `\\p{N}` is `\\d` plus that list.
    """
    other_numbers = _ranges([cp for cp in range(sys.maxunicode + 1)
                             if unicodedata.category(chr(cp)) in ("Nl", "No")])
    letter = rf"[^\W\d_{other_numbers}]"
    number = rf"[\d{other_numbers}]"
    other = rf"(?:[^\w{_WHITE_SPACE}]|_)"  # neither space, letter nor number ('_' is punctuation)
    space, non_space = f"[{_WHITE_SPACE}]", f"[^{_WHITE_SPACE}]"
    pattern = (rf"'s|'t|'re|'ve|'m|'ll|'d| ?{letter}+| ?{number}+| ?{other}+"
               rf"|{space}+(?!{non_space})|{space}+")
    return re.compile(pattern)
