"""Training reads random windows from the memory-mapped id file: same seed, same batches; the CLI takes folders and globs."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tinytorch.data.dataloader import DataLoader, TokenWindowDataset
from tinytorch.core.random import manual_seed

from cli_helpers import code_text, run_cli  # tests/helpers, on the path by tests/conftest.py


def _memmap(tmp_path, ids):
    path = tmp_path / "ids.bin"
    np.asarray(ids, dtype=np.uint16).tofile(path)
    return np.memmap(path, dtype=np.uint16, mode="r")


def test_memmap_windows_equal_int64_windows_and_stay_mapped(tmp_path):
    ids = np.random.default_rng(0).integers(0, 500, 3000)
    mapped = TokenWindowDataset(_memmap(tmp_path, ids), 16)
    plain = TokenWindowDataset(ids, 16)
    assert isinstance(mapped.tokens, np.memmap)  # not copied into memory
    idx = np.array([0, 5, 2983, 77])
    for a, b in zip(mapped.get_batch(idx), plain.get_batch(idx)):
        assert a.data.dtype == np.int64
        np.testing.assert_array_equal(a.data, b.data)
    x, y = mapped[7]
    assert x.data.dtype == np.int64 and x.data.tolist() == ids[7:23].tolist() and y.data.tolist() == ids[8:24].tolist()
    loader = DataLoader(mapped, batch_size=8, shuffle=True, seed=3)
    again = DataLoader(mapped, batch_size=8, shuffle=True, seed=3)
    for (a, _), (b, _) in zip(loader, again):
        np.testing.assert_array_equal(a.data, b.data)


def test_same_seed_same_random_batches_bit_for_bit(tmp_path):
    from tinytorch.cli.train import random_windows

    data = TokenWindowDataset(_memmap(tmp_path, np.arange(5000) % 311), 32)

    def draw():
        manual_seed(11)
        stream = random_windows(data, 4)
        return [next(stream)[0] for _ in range(5)]

    first, second = draw(), draw()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not np.array_equal(first[0], first[1])


def _folder(tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    code_text(folder / "one.txt")
    code_text(folder / "two.txt", repeats=2)
    return folder


def test_train_on_a_folder_caches_the_ids_and_reuses_them(capsys, tmp_path):
    folder = _folder(tmp_path)
    out = tmp_path / "run.safetensors"
    args = ["train", "--data", folder, "--steps", "2", "--batch-size", "2", "--out", out, "--no-progress"]
    code, text, err = run_cli(capsys, *args)
    assert code == 0, err
    assert "2 files" in text
    assert os.path.exists(tmp_path / "run.tokens") and os.path.exists(tmp_path / "run.tokens.json")
    code, text, err = run_cli(capsys, *args, "--overwrite")
    assert code == 0 and "reusing the token cache" in text
    code, text, err = run_cli(capsys, "train", "--data", folder / "*.txt", "--steps", "3", "--batch-size", "2",
                           "--resume", out, "--no-progress")
    assert code == 0 and "reusing the token cache" in text


@pytest.mark.parametrize("spec, fragment", [("texts/*.md", "no files match"), ("empty", "has no files")])
def test_names_that_match_nothing_are_one_line_errors(capsys, tmp_path, spec, fragment):
    _folder(tmp_path)
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(capsys, "train", "--data", tmp_path / spec, "--steps", "1", "--no-progress")
    assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1


def test_the_vocabulary_cap_reaches_the_model_and_is_reported(capsys, tmp_path):
    data = code_text(tmp_path / "code.txt")
    out = tmp_path / "capped.safetensors"
    code, text, err = run_cli(capsys, "train", "--data", data, "--vocab-size-cap", "12", "--steps", "1",
                              "--batch-size", "2", "--out", out, "--no-progress")
    assert code == 0, err
    assert "(12 symbols" in text and "vocabulary capped" in err and "map to <UNK>" in err
