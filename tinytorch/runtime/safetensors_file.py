"""One safetensors file read through one open handle: header, metadata and tensors from the same bytes.

`safetensors.safe_open` takes a path, so reading a header first and tensors later opens the file
twice; a writer that atomically replaces the file in between (as `tinytorch train` does at every
evaluation) would mix two files. Here the file is opened once and memory-mapped; a replacement
made later gets a new inode and leaves this mapping unchanged. The format
(https://github.com/huggingface/safetensors#format) is small enough to check in full:
8-byte little-endian header length, a JSON header of {name: {dtype, shape, data_offsets}} and an
optional "__metadata__" of strings, then the tensor bytes, which the tensors must tile exactly.
"""

from __future__ import annotations

import json
import math
import mmap
import os

import numpy as np

from .fileread import open_regular

MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit on the JSON header
DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
          "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?",
          "BF16": "<u2"}  # bfloat16, which numpy lacks: its 16 bits are read, then widened to float32 exactly


class SafetensorsFile:
    """An open safetensors file, checked in full on opening; `tensor(key)` copies one array out of it.

    Use as a context manager. Every problem is a ValueError saying what is wrong (the caller names
    the file); a missing or non-regular file is the error `open_regular` raises.
    """

    def __init__(self, path: str, where: str):
        self._file = open_regular(path, where)
        try:
            self._map = None
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        size = os.fstat(self._file.fileno()).st_size
        if size < 8:
            raise ValueError(f"it is {size} bytes, too short to hold the 8-byte header length")
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        length = int.from_bytes(self._map[:8], "little")
        if length > MAX_HEADER_BYTES:
            raise ValueError(f"it declares a {length}-byte header, over the {MAX_HEADER_BYTES}-byte limit")
        if 8 + length > size:
            raise ValueError(f"it declares a {length}-byte header but has only {size} bytes")
        try:
            header = json.loads(self._map[8:8 + length])
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"its header is not JSON: {str(exc):.200}") from None
        if not isinstance(header, dict):
            raise ValueError(f"its header is a JSON {type(header).__name__}, not an object")
        metadata = header.pop("__metadata__", None) or {}
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise ValueError("its __metadata__ is not a map of strings")
        self.metadata = metadata
        self._start = 8 + length
        self._entries = {key: self._entry(key, value) for key, value in header.items()}
        self._dtype_names = {key: value["dtype"] for key, value in header.items()}
        self._check_tiling(size - self._start)

    @staticmethod
    def _entry(key: str, value) -> tuple:
        """(numpy dtype, shape, begin, end) of one header entry, each field checked."""
        if not isinstance(value, dict) or value.get("dtype") not in DTYPES:
            found = value.get("dtype") if isinstance(value, dict) else value
            raise ValueError(f"tensor '{key:.80}' has dtype {found!r:.40}, not one of {sorted(DTYPES)}")
        shape, offsets = value.get("shape"), value.get("data_offsets")
        if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            raise ValueError(f"tensor '{key:.80}' has a malformed shape {shape!r:.80}")
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets)
                or not 0 <= offsets[0] <= offsets[1]):
            raise ValueError(f"tensor '{key:.80}' has malformed data_offsets {offsets!r:.80}")
        dtype = np.dtype(DTYPES[value["dtype"]])
        if offsets[1] - offsets[0] != math.prod(shape) * dtype.itemsize:
            raise ValueError(f"tensor '{key:.80}' of shape {tuple(shape)} and dtype {value['dtype']} needs "
                             f"{math.prod(shape) * dtype.itemsize} bytes, its offsets span {offsets[1] - offsets[0]}")
        return dtype, tuple(shape), offsets[0], offsets[1]

    def _check_tiling(self, data_size: int) -> None:
        """The tensors must cover the data section exactly, without gaps or overlaps (as safetensors requires)."""
        end = 0
        for key, (_, _, begin, stop) in sorted(self._entries.items(), key=lambda item: item[1][2:]):
            if begin != end:
                raise ValueError(f"tensor '{key:.80}' starts at byte {begin}, expected {end} (a gap or an overlap)")
            end = stop
        if end != data_size:
            raise ValueError(f"its tensors cover {end} bytes but it holds {data_size} (truncated or padded?)")

    def keys(self) -> list:
        return list(self._entries)

    def shape(self, key: str) -> tuple:
        return self._entries[key][1]

    def dtype_name(self, key: str) -> str:
        """The file's own name for the tensor's type ('F32', 'BF16', ...)."""
        return self._dtype_names[key]

    def tensor(self, key: str) -> np.ndarray:
        """A copy of tensor `key` (native byte order), independent of the file."""
        dtype, shape, begin, stop = self._entries[key]
        if begin == stop:
            return np.empty(shape, dtype=dtype.newbyteorder("="))
        array = np.frombuffer(self._map, dtype=dtype, count=math.prod(shape), offset=self._start + begin)
        if self._dtype_names[key] == "BF16":  # the high half of a float32: shift it back into place
            return (array.astype(np.uint32) << 16).view(np.float32).reshape(shape)
        return array.astype(dtype.newbyteorder("="), copy=True).reshape(shape)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
