"""Datasets and the `DataLoader` that batches them into Tensors, shuffled through tinytorch's seeded generator.

Also the two language-model datasets: `TokenWindowDataset` (windows cut from one token stream) and
`PaddedSequenceDataset` (one padded example per snippet).
"""

from __future__ import annotations

import mmap

import numpy as np

from ..core.random import get_rng
from ..core.tensor import Tensor
from ..core.validation import as_token_ids, check_bool, check_int, describe


def _as_array(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _token_stream(ids, where: str) -> np.ndarray:
    """A 1-D array of unsigned ids (say a np.memmap of a token file) as it is, not copied; anything else
    through `_token_array`. Windows are turned into int64 one batch at a time."""
    if isinstance(ids, np.ndarray) and ids.dtype.kind == "u" and ids.ndim == 1:
        return ids
    return _token_array(ids, where)


RESIDENT_BYTES = 16 << 20  # a memory-mapped stream larger than this has its pages released after each read


def release_pages(ids) -> None:
    """Unmap the pages of a memory-mapped id stream that reading windows brought into this process.

    Each page a window touches stays in the process's resident memory for as long as the map is open,
    with its neighbours: on a recent Linux whole large folios (up to 2 MB) are mapped at once, so 12
    random windows added 22 MB, and a 10-step run with one evaluation over a 100 MB text's ids reached
    290 MB of RSS. Dropped (MADV_DONTNEED), the pages stay in the OS's file cache, the next read of them
    is a minor fault, and training-time memory no longer grows with the corpus (nanoGPT reopens its
    np.memmap for each batch for the same reason). One call and the faults after it cost ~0.1 ms, so
    `TokenWindowDataset` makes it only for streams over RESIDENT_BYTES.
    """
    mapped = getattr(ids, "_mmap", None)  # np.memmap's mmap object, shared by its views (numpy sets it)
    if mapped is not None and hasattr(mmap, "MADV_DONTNEED"):
        try:
            mapped.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):  # pragma: no cover - a closed map or a system that refuses: keep the pages
            pass


def _token_array(ids, where: str) -> np.ndarray:
    """A 1-D int64 array of token ids (from a list, ndarray or Tensor; whole-number floats allowed)."""
    arr = as_token_ids(ids, None, where)
    if arr.ndim != 1:
        raise ValueError(f"{where}: token ids must be 1-D, got shape {arr.shape}")
    return arr


class Dataset:
    """A sized collection of samples: subclasses define `__len__` and `__getitem__`."""

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index):
        raise NotImplementedError

    def get_batch(self, indices: np.ndarray):
        """Samples `indices` stacked along a new first axis; override for a vectorised version."""
        return _collate([self[int(i)] for i in indices])


def _collate(samples: list):
    """Stack samples into Tensors: a tuple of batched Tensors for tuple samples, else one Tensor."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(Tensor(np.stack([_as_array(s[k]) for s in samples])) for k in range(len(first)))
    return Tensor(np.stack([_as_array(s) for s in samples]))


class TensorDataset(Dataset):
    """Samples are the i-th rows of several same-length arrays/Tensors (e.g. inputs and labels)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        self.tensors = tuple(_as_array(t) for t in tensors)
        lengths = [len(t) if t.ndim else 0 for t in self.tensors]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: all tensors need the same first dimension, got lengths {lengths}")
        if lengths[0] == 0:
            raise ValueError(f"TensorDataset: the tensors are empty (shapes {[t.shape for t in self.tensors]})")

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(Tensor(t[index]) for t in self.tensors)

    def get_batch(self, indices: np.ndarray):
        return tuple(Tensor(t[indices]) for t in self.tensors)


class DataLoader:
    """Iterates over `dataset` in batches of Tensors.

    With `shuffle=True` every epoch (every `iter()`) draws a fresh permutation: from a private
    generator seeded with `seed` when one is given (reproducible on its own), otherwise from
    `tinytorch.core.random.get_rng()` (reproducible under `tinytorch.manual_seed`).
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False, seed=None):
        if isinstance(dataset, (str, bytes)) or not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must have __len__ and __getitem__, got {describe(dataset)}")
        self.batch_size = check_int(batch_size, "batch_size", "DataLoader", minimum=1)
        self.shuffle = check_bool(shuffle, "shuffle", "DataLoader")
        self.drop_last = check_bool(drop_last, "drop_last", "DataLoader")
        n = len(dataset)
        if n == 0:
            raise ValueError(f"DataLoader: the dataset {type(dataset).__name__} is empty (len 0)")
        if seed is not None:
            check_int(seed, "seed", "DataLoader", minimum=0)
        self.dataset = dataset
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(int(seed))

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        rng = self._rng if self._rng is not None else get_rng()
        return rng.permutation(n)

    def __iter__(self):
        order = self._order()
        get_batch = getattr(self.dataset, "get_batch", None)
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            if get_batch is not None:
                yield get_batch(idx)
            else:
                yield _collate([self.dataset[int(i)] for i in idx])


class TokenWindowDataset(Dataset):
    """(input, target) windows of length `seq_len` cut from one token stream; target = input shifted by one.

    Window k starts at `k * stride` (default 1: every start position), so there are
    `(len(token_ids) - seq_len - 1) // stride + 1` windows.
    """

    def __init__(self, token_ids, seq_len: int, stride: int = 1):
        self.tokens = _token_stream(token_ids, "TokenWindowDataset")
        self.seq_len = check_int(seq_len, "seq_len", "TokenWindowDataset", minimum=1)
        self.stride = check_int(stride, "stride", "TokenWindowDataset", minimum=1)
        self._release = isinstance(self.tokens, np.memmap) and self.tokens.nbytes > RESIDENT_BYTES
        if self.seq_len >= len(self.tokens):
            raise ValueError(f"TokenWindowDataset: seq_len {self.seq_len} must be less than the stream length "
                             f"{len(self.tokens)} (each window needs seq_len + 1 tokens)")

    def __len__(self) -> int:
        return (len(self.tokens) - self.seq_len - 1) // self.stride + 1

    def _check(self, index: int) -> int:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"TokenWindowDataset: index {index} is out of range for {n} windows")
        return index % n

    def __getitem__(self, index):
        start = self._check(int(index)) * self.stride
        window = self.tokens[start:start + self.seq_len + 1].astype(np.int64)
        if self._release:
            release_pages(self.tokens)
        return Tensor(window[:-1]), Tensor(window[1:])

    def get_batch(self, indices: np.ndarray):
        starts = np.asarray(indices, dtype=np.int64) * self.stride
        rows = self.tokens[starts[:, None] + np.arange(self.seq_len + 1)].astype(np.int64, copy=False)  # (B, T + 1)
        if self._release:  # a large memory map's pages read for this batch leave the resident set
            release_pages(self.tokens)
        return Tensor(rows[:, :-1]), Tensor(rows[:, 1:])


class PaddedSequenceDataset(Dataset):
    """One example per sequence: padded with `pad_id` to `seq_len + 1` ids, input = ids[:-1], target = ids[1:].

    This is the test plan's memorisation setup (snippets encoded, padded with 0). `target_pad_id`
    (e.g. the loss's `ignore_index`) replaces the target wherever it is padding; by default it stays
    `pad_id`, so the model also learns where a snippet ends. A sequence longer than `seq_len + 1` is
    an error unless `truncate=True`.
    """

    def __init__(self, sequences, seq_len: int, pad_id: int = 0, target_pad_id: int | None = None,
                 truncate: bool = False):
        where = "PaddedSequenceDataset"
        self.seq_len = check_int(seq_len, "seq_len", where, minimum=1)
        truncate = check_bool(truncate, "truncate", where)
        if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__iter__"):
            raise TypeError(f"{where}: sequences must be a list of token-id sequences, got {describe(sequences)}")
        seqs = [_token_array(s, f"{where} (sequence {i})") for i, s in enumerate(sequences)]
        if not seqs:
            raise ValueError(f"{where}: no sequences given")
        width = self.seq_len + 1
        for i, s in enumerate(seqs):
            if len(s) == 0:
                raise ValueError(f"{where}: sequence {i} is empty")
            if len(s) > width and not truncate:
                raise ValueError(f"{where}: sequence {i} has {len(s)} tokens, more than seq_len + 1 = {width}; "
                                 f"raise seq_len or pass truncate=True")
        self.pad_id = check_int(pad_id, "pad_id", where, minimum=0)
        self.target_pad_id = self.pad_id if target_pad_id is None else check_int(target_pad_id, "target_pad_id", where)
        self.lengths = np.array([min(len(s), width) for s in seqs], dtype=np.int64)
        padded = np.full((len(seqs), width), self.pad_id, dtype=np.int64)  # (N, T + 1)
        for i, s in enumerate(seqs):
            padded[i, :self.lengths[i]] = s[:width]
        self.inputs = padded[:, :-1]   # (N, T)
        self.targets = padded[:, 1:].copy()  # (N, T)
        is_pad = np.arange(1, width)[None, :] >= self.lengths[:, None]
        self.targets[is_pad] = self.target_pad_id

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index):
        return Tensor(self.inputs[index]), Tensor(self.targets[index])

    def get_batch(self, indices: np.ndarray):
        return Tensor(self.inputs[indices]), Tensor(self.targets[indices])


__all__ = ["Dataset", "TensorDataset", "DataLoader", "TokenWindowDataset", "PaddedSequenceDataset"]
