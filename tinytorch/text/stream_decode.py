"""Decoding ids one at a time as a model produces them, so the pieces joined are exactly `decode(all ids)`.

A byte-level token may hold half of a character (an emoji spread over two tokens): printing each token's
own decode would show U+FFFD where the whole text has the emoji. These decoders hold such bytes back
until the character is complete (or proven invalid), as Python's incremental UTF-8 decoder does.
"""

from __future__ import annotations

import codecs


class ByteStreamDecoder:
    """Ids -> text through their bytes (`token_bytes[id]`), one incremental UTF-8 decoder (errors replaced)."""

    def __init__(self, token_bytes: list):
        self._bytes = token_bytes
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, ids) -> str:
        """The text that `ids` complete; bytes of an unfinished character wait for the next call."""
        return self._utf8.decode(b"".join(self._bytes[t] for t in ids))

    def flush(self) -> str:
        """What is still held (an unfinished character at the end becomes U+FFFD, as `decode` makes it)."""
        return self._utf8.decode(b"", final=True)


class TextStreamDecoder:
    """Ids -> text for a tokenizer whose `decode` joins per-token texts (a character vocabulary).

    Ids wait while their text ends in U+FFFD (perhaps a character still unfinished) and are decoded
    together with the ids after them; every piece is a `decode` of consecutive ids, so the pieces join
    to `decode(all ids)` whenever decoding concatenates at the points where a piece is cut.
    """

    def __init__(self, decode):
        self._decode = decode
        self._held: list = []

    def feed(self, ids) -> str:
        self._held.extend(ids)
        text = self._decode(self._held)
        if text.endswith("\ufffd"):
            return ""
        self._held = []
        return text

    def flush(self) -> str:
        text = self._decode(self._held) if self._held else ""
        self._held = []
        return text
