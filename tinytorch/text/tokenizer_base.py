"""The `Tokenizer` base class: text to ids and back, with a JSON form for checkpoints and files."""

from __future__ import annotations

import json

from ..runtime.fileio import as_path, atomic_write
from ..core.validation import as_token_ids
from .stream_decode import TextStreamDecoder

FORMAT_VERSION = 1


class Tokenizer:
    """Base class: text to token ids and back, plus a JSON form for checkpoints and files."""

    #: Subclasses registered by name, so `Tokenizer.from_dict` can rebuild any of them.
    registry: dict[str, type] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Tokenizer.registry[cls.__name__] = cls

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    def encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def decode(self, ids) -> str:
        raise NotImplementedError

    def stream_decoder(self):
        """A decoder fed ids as they are generated (`feed(ids) -> text`, `flush() -> text`) whose pieces
        join to `decode(all ids)`: a streamed text never prints half of a character."""
        return TextStreamDecoder(lambda ids: self.decode(ids))

    def __len__(self) -> int:
        return self.vocab_size

    def _ids_to_decode(self, ids, where: str) -> list[int]:
        """The ids given to `decode` (one id or one 1-D sequence) as a list of in-vocabulary ints."""
        arr = as_token_ids(ids, self.vocab_size, where)
        if arr.ndim > 1:
            raise ValueError(f"{where}: expected a 1-D sequence of token ids, got shape {arr.shape}")
        return arr.reshape(-1).tolist()

    # ----- serialisation ---------------------------------------------------------------------------
    def _state(self) -> dict:
        raise NotImplementedError

    @classmethod
    def _from_state(cls, state: dict) -> "Tokenizer":
        raise NotImplementedError

    def to_dict(self) -> dict:
        """A JSON-serialisable description that `Tokenizer.from_dict` turns back into an equal tokenizer."""
        return {"type": type(self).__name__, "format_version": FORMAT_VERSION, **self._state()}

    @classmethod
    def from_dict(cls, d: dict) -> "Tokenizer":
        """Rebuild a tokenizer from `to_dict()` output; on the base class, the stored type decides."""
        if not isinstance(d, dict):
            raise TypeError(f"{cls.__name__}.from_dict: expected a dict, got {type(d).__name__}")
        kind = d.get("type")
        target = Tokenizer.registry.get(kind) if isinstance(kind, str) else None
        if target is None:
            raise ValueError(f"{cls.__name__}.from_dict: unknown tokenizer type {kind!r:.80}; "
                             f"known: {sorted(Tokenizer.registry)}")
        if not issubclass(target, cls):
            raise ValueError(f"{cls.__name__}.from_dict: the dict describes a {kind}, not a {cls.__name__}")
        version = d.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(f"{cls.__name__}.from_dict: unsupported format_version {version!r:.80} "
                             f"(this version reads {FORMAT_VERSION})")
        return target._from_state(d)

    def save(self, path) -> None:
        """Write `to_dict()` as JSON, atomically (see `fileio.atomic_write`)."""
        atomic_write(path, json.dumps(self.to_dict(), ensure_ascii=False))

    @classmethod
    def load(cls, path) -> "Tokenizer":
        """Read a file written by `save`; a bad file is a ValueError naming it (the rebuild is bounded by its size)."""
        where = f"{cls.__name__}.load"
        path = as_path(path, where)
        with open(path, encoding="utf-8") as f:
            try:
                d = json.load(f)
            except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError; Recursion: deep nesting
                raise ValueError(f"{where}: {path} is not valid JSON text ({str(e):.200})") from None
        try:
            return cls.from_dict(d)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{where}: {path}: {str(e):.300}") from None
