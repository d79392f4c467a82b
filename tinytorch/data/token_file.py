"""The token cache: a text tokenized once into a compact id file (NAME.tokens) read through `np.memmap`.

Like nanoGPT's train.bin, the ids are raw little-endian uint16 (uint32 past 65,536 symbols), so the
file is a quarter of int64's size and training maps it instead of loading it. A JSON sidecar
(NAME.tokens.json) says what the ids are: the text's size and SHA-256, the tokenizer (and its hash),
the recipe that made it, the id count and the ids' own SHA-256. A later run (or `--resume`) reuses the
file only when all of these still hold; a truncated or corrupt cache is refused, said so, and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from ..runtime.fileio import atomic_write
from ..text.tokenizer_base import Tokenizer
from ..text.char_table import id_dtype
from .status import StatusLine
from .tokenize_stream import ByteProgress, build_tokenizer, encode_blocks

FORMAT = "tinytorch-token-file"
VERSION = 1
HASH_BLOCK = 1 << 20  # bytes hashed at a time when checking an id file (small: it adds to training-time RSS)


class StaleCache(Exception):
    """Why a cache cannot be used; the caller rebuilds it."""


def tokenizer_sha256(tokenizer) -> str:
    """The SHA-256 of the tokenizer's canonical JSON form: equal tokenizers, equal hashes."""
    return hashlib.sha256(json.dumps(tokenizer.to_dict(), sort_keys=True).encode("utf-8")).hexdigest()


def sidecar_of(path: str) -> str:
    return path + ".json"


def _file_sha256(path: str) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(HASH_BLOCK):
            hasher.update(block)
    return hasher.hexdigest()


class TokenFile:
    """The ids of one text under one tokenizer: `ids` is a read-only memmap, (count,), uint16 or uint32."""

    def __init__(self, path: str, tokenizer, meta: dict, reused: bool, note: str = ""):
        self.path, self.tokenizer, self.meta, self.reused, self.note = path, tokenizer, meta, reused, note
        self.ids = np.memmap(path, dtype=np.dtype(meta["dtype"]).newbyteorder("<"), mode="r",
                             shape=(meta["count"],))

    def __len__(self) -> int:
        return len(self.ids)


def read_meta(path: str) -> dict:
    """The sidecar of `path`, checked for form; a missing, unreadable or malformed one is a StaleCache."""
    side = sidecar_of(path)
    if not os.path.exists(side) or not os.path.exists(path):
        raise StaleCache(f"no token cache at '{path}' yet")
    try:
        with open(side, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as exc:
        raise StaleCache(f"the token cache index '{side}' is unreadable ({str(exc):.120})") from None
    keys = ("format", "version", "dtype", "count", "text_bytes", "text_sha256", "tokenizer", "tokenizer_sha256",
            "recipe", "ids_sha256")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or any(k not in meta for k in keys):
        raise StaleCache(f"'{side}' is not a tinytorch token cache index")
    if meta["version"] != VERSION or meta["dtype"] not in ("uint16", "uint32") \
            or not isinstance(meta["count"], int) or meta["count"] < 1:
        raise StaleCache(f"'{side}' has an unsupported version, dtype or count")
    return meta


def check_cache(path: str, fingerprint, recipe: dict | None, tokenizer) -> tuple:
    """(meta, tokenizer) of a cache that matches this text and this tokenizer (given) or recipe (to rebuild
    one); else StaleCache saying what differs. The ids are checked whole: their size, then their SHA-256."""
    meta = read_meta(path)
    if (meta["text_bytes"], meta["text_sha256"]) != (fingerprint.size, fingerprint.sha256):
        raise StaleCache(f"the text changed since '{path}' was made")
    if tokenizer is not None:
        if meta["tokenizer_sha256"] != tokenizer_sha256(tokenizer):
            raise StaleCache(f"'{path}' was made by another tokenizer")
    elif meta["recipe"] != recipe:
        raise StaleCache(f"'{path}' was made with other tokenizer settings ({meta['recipe']})")
    expected = meta["count"] * np.dtype(meta["dtype"]).itemsize
    actual = os.path.getsize(path)
    if actual != expected:
        raise StaleCache(f"the token cache '{path}' is truncated or padded: {actual:,} bytes, its index says "
                         f"{meta['count']:,} ids = {expected:,} bytes")
    if _file_sha256(path) != meta["ids_sha256"]:
        raise StaleCache(f"the token cache '{path}' is corrupt: its ids do not match the SHA-256 in its index")
    if tokenizer is None:
        try:
            tokenizer = Tokenizer.from_dict(meta["tokenizer"])
        except (TypeError, ValueError) as exc:
            raise StaleCache(f"'{sidecar_of(path)}' holds an unreadable tokenizer ({str(exc):.120})") from None
        if tokenizer_sha256(tokenizer) != meta["tokenizer_sha256"]:
            raise StaleCache(f"'{sidecar_of(path)}' holds a tokenizer that does not match its hash")
    return meta, tokenizer


def write_cache(path: str, source, fingerprint, recipe, tokenizer, status) -> dict:
    """Encode the text into `path` (through a temporary file, so a crash never leaves a half file under the
    name) and write its sidecar last; returns the sidecar."""
    dtype = id_dtype(tokenizer.vocab_size)
    side = sidecar_of(path)
    if os.path.exists(side):
        os.remove(side)  # no index may describe ids being replaced
    tmp = f"{path}.tmp-{os.getpid()}"
    hasher, count = hashlib.sha256(), 0
    status.step("tokenizing", source.size)
    try:
        with open(tmp, "wb") as f:
            for ids in encode_blocks(source, tokenizer, ByteProgress(status)):
                raw = ids.astype(dtype.newbyteorder("<"), copy=False).tobytes()
                f.write(raw)
                hasher.update(raw)
                count += len(ids)
            f.flush()
            os.fsync(f.fileno())
        if count == 0:
            raise ValueError("the text gives no tokens")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    status.close()
    meta = {"format": FORMAT, "version": VERSION, "dtype": dtype.name, "count": count, **fingerprint.to_dict(),
            "files": [os.path.abspath(f) for f in source.files], "recipe": recipe,
            "tokenizer": tokenizer.to_dict(), "tokenizer_sha256": tokenizer_sha256(tokenizer),
            "ids_sha256": hasher.hexdigest()}
    atomic_write(side, json.dumps(meta, ensure_ascii=False))
    return meta


def open_tokens(path: str, source, recipe: dict | None = None, tokenizer=None, status=None, say=None) -> TokenFile:
    """The ids of `source` cached at `path`: reused when the cache matches the text and the tokenizer (given,
    as on a resume) or the recipe (the tokenizer is then the cached one); otherwise built and written.

    `say(message)` hears why an existing cache was not used (truncated, corrupt, text changed, ...).
    """
    if (recipe is None) == (tokenizer is None):
        raise ValueError("open_tokens: pass either a recipe (to make a tokenizer) or a tokenizer, not both")
    status = StatusLine(enabled=False) if status is None else status
    status.step("reading", source.size)
    fingerprint = source.fingerprint(ByteProgress(status))
    status.close()
    try:
        meta, cached = check_cache(path, fingerprint, recipe, tokenizer)
        tokens = TokenFile(path, cached, meta, reused=True)
        tokens.fingerprint = fingerprint
        return tokens
    except StaleCache as why:
        if say is not None and os.path.exists(path):
            say(f"{why}; rebuilding it")
    note = ""
    if tokenizer is None:
        tokenizer, note = build_tokenizer(source, recipe, status)
    meta = write_cache(path, source, fingerprint, recipe, tokenizer, status)
    tokens = TokenFile(path, tokenizer, meta, reused=False, note=note)
    tokens.fingerprint = fingerprint
    return tokens


__all__ = ["TokenFile", "open_tokens", "check_cache", "read_meta", "tokenizer_sha256", "sidecar_of", "StaleCache"]
