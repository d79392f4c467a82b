"""Reading windows from a large memory-mapped token file does not keep its pages in the process's memory:
training-time RSS stays the same whatever the corpus size (and the windows read are still exact)."""

from __future__ import annotations

import mmap
import os

import numpy as np
import pytest

from tinytorch.data.dataloader import RESIDENT_BYTES, TokenWindowDataset


def resident_file_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssFile:"):
                return int(line.split()[1]) / 1024
    pytest.skip("no RssFile in /proc/self/status")


@pytest.mark.skipif(not os.path.exists("/proc/self/status") or not hasattr(mmap, "MADV_DONTNEED"),
                    reason="needs Linux's /proc and madvise")
def test_random_batches_from_a_large_memmap_leave_no_pages_resident(tmp_path):
    count = 3 * RESIDENT_BYTES // 2  # uint16: 48 MB of ids, three times the threshold
    path = tmp_path / "ids.tokens"
    (np.arange(count, dtype=np.int64) % 50_021).astype(np.uint16).tofile(path)
    tokens = np.memmap(path, dtype=np.uint16, mode="r")
    data = TokenWindowDataset(tokens, 64)
    rng = np.random.default_rng(0)
    before = resident_file_mb()
    for _ in range(60):  # 720 random windows: without the release, tens of MB of the file stay mapped
        starts = rng.integers(0, len(data), 12)
        inputs, targets = data.get_batch(starts)
        expected = (starts[:, None] + np.arange(65)) % 50_021
        assert np.array_equal(inputs.data, expected[:, :-1]) and np.array_equal(targets.data, expected[:, 1:])
    window = data[int(starts[0])]
    assert np.array_equal(window[0].data, expected[0, :-1])
    assert resident_file_mb() - before < 4


def test_a_small_stream_is_not_released_after_each_batch(tmp_path):
    path = tmp_path / "small.tokens"
    np.arange(1000, dtype=np.uint16).tofile(path)
    assert not TokenWindowDataset(np.memmap(path, dtype=np.uint16, mode="r"), 16)._release
    assert not TokenWindowDataset(np.arange(1000), 16)._release  # an array in memory has no pages to give back
