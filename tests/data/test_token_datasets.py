"""Language-model datasets: token windows and padded snippets, with targets shifted by one."""

import numpy as np
import pytest

from tinytorch.data.dataloader import DataLoader, PaddedSequenceDataset, TokenWindowDataset
from tinytorch.core.tensor import Tensor
from tinytorch.text.tokenization import CharTokenizer
from tinytorch.data.python_snippets import MEMORIZATION_PATTERNS


def test_windows_are_shifted_by_one():
    stream = np.arange(100, 120)  # 20 tokens
    ds = TokenWindowDataset(stream, seq_len=5)
    assert len(ds) == 15  # starts 0..14: the last window's target ends at token 19
    x, y = ds[0]
    np.testing.assert_array_equal(x.data, [100, 101, 102, 103, 104])
    np.testing.assert_array_equal(y.data, [101, 102, 103, 104, 105])
    x, y = ds[14]
    np.testing.assert_array_equal(y.data, np.arange(115, 120))
    assert x.dtype == np.int64
    with pytest.raises(IndexError, match="index 15 is out of range for 15 windows"):
        ds[15]


def test_stride_gives_non_overlapping_windows():
    ds = TokenWindowDataset(list(range(21)), seq_len=5, stride=5)
    assert len(ds) == 4
    starts = [int(ds[i][0].data[0]) for i in range(len(ds))]
    assert starts == [0, 5, 10, 15]
    assert int(ds[3][1].data[-1]) == 20


def test_window_batches_match_single_items_when_shuffled():
    ds = TokenWindowDataset(Tensor(np.arange(50) % 7), seq_len=8, stride=3)
    seen = []
    for x, y in DataLoader(ds, batch_size=4, shuffle=True, seed=0):
        assert x.shape[1:] == (8,) and y.shape == x.shape
        np.testing.assert_array_equal(x.data[:, 1:], y.data[:, :-1])  # targets shifted by one
        for row in range(x.shape[0]):
            seen.append(tuple(x.data[row]))
    expected = sorted(tuple(ds[i][0].data) for i in range(len(ds)))
    assert sorted(seen) == expected  # each window exactly once per epoch


def test_window_bad_inputs():
    with pytest.raises(ValueError, match="seq_len 10 must be less than the stream length 10"):
        TokenWindowDataset(np.arange(10), seq_len=10)
    with pytest.raises(ValueError, match="seq_len 12 must be less than the stream length 10"):
        TokenWindowDataset(np.arange(10), seq_len=12)
    with pytest.raises(ValueError, match="seq_len must be a positive int, got 0"):
        TokenWindowDataset(np.arange(10), seq_len=0)
    with pytest.raises(ValueError, match=r"must be 1-D, got shape \(2, 5\)"):
        TokenWindowDataset(np.zeros((2, 5), dtype=np.int64), seq_len=2)
    with pytest.raises(ValueError, match="token id 0.5 is not a whole number"):
        TokenWindowDataset(np.array([0.0, 0.5, 1.0]), seq_len=1)


def test_padded_snippets_match_the_test_plan_setup():
    tok = CharTokenizer().build_vocab(MEMORIZATION_PATTERNS)
    encoded = [tok.encode(p) for p in MEMORIZATION_PATTERNS]
    ds = PaddedSequenceDataset(encoded, seq_len=40)
    assert len(ds) == 5
    for i, ids in enumerate(encoded):
        padded = ids + [0] * (41 - len(ids))
        x, y = ds[i]
        assert x.data.tolist() == padded[:-1]
        assert y.data.tolist() == padded[1:]
    x, y = next(iter(DataLoader(ds, batch_size=5)))
    assert x.shape == (5, 40) and y.shape == (5, 40)
    assert tok.decode(x.data[0], skip_special=True) == MEMORIZATION_PATTERNS[0]
    np.testing.assert_array_equal(ds.lengths, [len(e) for e in encoded])


def test_padded_targets_can_use_an_ignore_index():
    ds = PaddedSequenceDataset([[5, 6, 7], [8]], seq_len=4, target_pad_id=-100)
    x, y = ds[0]
    assert x.data.tolist() == [5, 6, 7, 0]
    assert y.data.tolist() == [6, 7, -100, -100]
    x, y = ds[1]
    assert x.data.tolist() == [8, 0, 0, 0]
    assert y.data.tolist() == [-100, -100, -100, -100]


def test_padded_truncation_and_bad_inputs():
    ds = PaddedSequenceDataset([list(range(1, 10))], seq_len=4, truncate=True)
    assert ds[0][0].data.tolist() == [1, 2, 3, 4] and ds[0][1].data.tolist() == [2, 3, 4, 5]
    with pytest.raises(ValueError, match=r"sequence 1 has 9 tokens, more than seq_len \+ 1 = 5"):
        PaddedSequenceDataset([[1, 2], list(range(9))], seq_len=4)
    with pytest.raises(ValueError, match="no sequences given"):
        PaddedSequenceDataset([], seq_len=4)
    with pytest.raises(ValueError, match="sequence 0 is empty"):
        PaddedSequenceDataset([[]], seq_len=4)
