"""The text a model trains on: one file, several files, a folder or a glob, read as one stream in blocks.

Files are concatenated in sorted path order, with `SEPARATOR` between two files, so the same
arguments always give the same text. Reading streams the bytes in blocks (a UTF-8 character cut by
a block edge is completed by the next block), so no step holds the whole corpus.
"""

from __future__ import annotations

import codecs
import glob
import hashlib
import os
import stat
from dataclasses import dataclass

from ..runtime.fileread import kind_of, open_regular, os_error_text

SEPARATOR = "\n\n"  # written between two files (one blank line)
BLOCK_BYTES = 4 << 20  # bytes read (and decoded) at a time


def _folder_files(folder: str) -> list[str]:
    """The regular files under `folder` (recursively), hidden files and folders skipped."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [os.path.join(root, f) for f in files if not f.startswith(".")]
    return found


def resolve(specs) -> list[str]:
    """The files named by `specs` (a path or a list of them; each a file, a folder or a glob pattern),
    sorted and without repeats. Names that match nothing are a ValueError saying what to pass instead."""
    specs = [specs] if isinstance(specs, (str, os.PathLike)) else list(specs)
    if not specs:
        raise ValueError("no text given: pass a file, several files, a folder or a glob such as 'texts/*.txt'")
    files = []
    for spec in map(os.fspath, specs):
        if os.path.isdir(spec):
            found = _folder_files(spec)
            if not found:
                raise ValueError(f"the folder '{spec}' has no files in it (hidden ones are skipped); "
                                 f"put text files there or name the files themselves")
        elif os.path.exists(spec):
            found = [spec]
        elif os.path.lexists(spec):  # a link to nowhere, or a loop: say which
            try:
                os.stat(spec)
            except OSError as exc:
                raise ValueError(os_error_text(exc, spec)) from None
        elif glob.has_magic(spec):
            found = [f for f in glob.glob(spec, recursive=True) if os.path.isfile(f)]
            if not found:
                raise ValueError(f"no files match '{spec}'; check the pattern (quote it so the shell "
                                 f"does not expand it, e.g. 'texts/**/*.txt')")
        else:
            raise ValueError(f"no such file or folder: '{spec}'")
        files += found
    files = sorted(dict.fromkeys(os.path.normpath(f) for f in files))
    for path in files:  # a device or FIFO never ends (or never starts): refused before anything is read
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"'{path}' is {kind_of(mode)}, not a regular file; give a text file on disk")
    return files


@dataclass(frozen=True)
class Fingerprint:
    """What identifies a text: its size in bytes (separators included) and the SHA-256 of those bytes; its
    length in characters comes along (bits per character need it)."""

    size: int
    sha256: str
    chars: int = 0

    def to_dict(self) -> dict:
        return {"text_bytes": self.size, "text_sha256": self.sha256}


class TextSource:
    """The concatenated UTF-8 text of `files`, read in blocks of about `block_bytes`."""

    def __init__(self, specs, block_bytes: int = BLOCK_BYTES):
        self.files = resolve(specs)
        self.block_bytes = block_bytes
        self.size = sum(os.path.getsize(f) for f in self.files) + len(SEPARATOR) * (len(self.files) - 1)

    def describe(self) -> str:
        """'NAME' for one file, 'N files (first ... last)' for several."""
        if len(self.files) == 1:
            return self.files[0]
        return f"{len(self.files)} files ({self.files[0]} ... {self.files[-1]})"

    def _raw_blocks(self):
        """(path, bytes) blocks of every file in order, `SEPARATOR` between files."""
        for i, path in enumerate(self.files):
            if i:
                yield None, SEPARATOR.encode("utf-8")
            try:
                with open_regular(path, "--data") as f:
                    while block := f.read(self.block_bytes):
                        yield path, block
            except OSError as exc:
                raise ValueError(f"cannot read '{path}': {exc.strerror or exc}") from None

    def blocks(self, *readers):
        """The text as str blocks; each reader's `update(raw)` sees every byte (a hasher, a progress line).
        Bad UTF-8 or a NUL byte is a ValueError naming the file and the byte offset."""
        decoder, current, offset = None, None, 0
        for path, raw in self._raw_blocks():
            if path != current and path is not None:
                decoder, current, offset = codecs.getincrementaldecoder("utf-8")(), path, 0
            for reader in readers:
                reader.update(raw)
            if path is None:
                yield SEPARATOR
                continue
            text = self._decode(decoder, raw, path, offset, final=False)
            if b"\x00" in raw:
                raise ValueError(f"'{path}' contains a NUL byte at byte {offset + raw.index(0)}: it looks binary, not "
                                 f"like text")
            yield text
            offset += len(raw)
            if offset == os.path.getsize(path):
                yield self._decode(decoder, b"", path, offset, final=True)

    @staticmethod
    def _decode(decoder, raw: bytes, path: str, offset: int, final: bool) -> str:
        try:
            return decoder.decode(raw, final=final)
        except UnicodeDecodeError as exc:
            raise ValueError(f"'{path}' is not UTF-8 text ({exc.reason} near byte {offset + exc.start})") from None

    def fingerprint(self, *readers) -> Fingerprint:
        """Size and SHA-256 of the bytes, read once (checked for UTF-8 on the way); `readers` as in `blocks`."""
        hasher, has_text, chars = hashlib.sha256(), False, 0
        for block in self.blocks(hasher, *readers):
            has_text = has_text or not (block.isspace() or not block)
            chars += len(block)
        if not has_text:
            raise ValueError(f"{self.describe()} is empty: there is no text to train on")
        return Fingerprint(self.size, hasher.hexdigest(), chars)

    def read(self) -> str:
        """The whole text as one str (for small texts and tests; training streams `blocks`)."""
        return "".join(self.blocks())


__all__ = ["SEPARATOR", "TextSource", "Fingerprint", "resolve", "corpus_name"]


def corpus_name(specs) -> str:
    """A short name for the text: a file's name without extension, a folder's name, or the folder a glob
    looks in ('corpus' when there is none)."""
    specs = [specs] if isinstance(specs, (str, os.PathLike)) else list(specs)
    first = os.path.normpath(os.fspath(specs[0]))
    if os.path.isdir(first):
        return os.path.basename(os.path.abspath(first))
    if glob.has_magic(first) or len(specs) > 1:
        folder = first
        while glob.has_magic(folder) and folder not in ("", os.sep):
            folder = os.path.dirname(folder)
        return os.path.basename(os.path.abspath(folder or ".")) or "corpus"
    return os.path.splitext(os.path.basename(first))[0]
