"""Dataset, TensorDataset and DataLoader: batch shapes, drop_last, seeded shuffling, bad input."""

import numpy as np
import pytest

import tinytorch
from tinytorch.data.dataloader import DataLoader, Dataset, TensorDataset
from tinytorch.core.tensor import Tensor
from tinytorch.data.loader import DataLoader as AliasLoader


def make_dataset(n=10, d=3):
    x = np.arange(n * d, dtype=np.float32).reshape(n, d)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(Tensor(x), y)


def labels_of(loader):
    return [batch[1].data.tolist() for batch in loader]


def test_alias_module_is_the_same_class():
    assert AliasLoader is DataLoader


def test_tensor_dataset_items_and_length():
    ds = make_dataset(10, 3)
    assert len(ds) == 10
    x, y = ds[4]
    assert isinstance(x, Tensor) and isinstance(y, Tensor)
    np.testing.assert_array_equal(x.data, [12, 13, 14])
    assert y.item() == 4


def test_batch_shapes_and_dtypes():
    loader = DataLoader(make_dataset(10, 3), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert [b[1].shape for b in batches] == [(4,), (4,), (2,)]
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    assert not batches[0][0].requires_grad
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]  # no shuffle: in order


def test_drop_last():
    loader = DataLoader(make_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    exact = DataLoader(make_dataset(8), batch_size=4, drop_last=True)
    assert len(exact) == 2 == len(list(exact))
    too_big = DataLoader(make_dataset(3), batch_size=4, drop_last=True)
    assert len(too_big) == 0 and list(too_big) == []


def test_every_sample_seen_exactly_once_per_epoch():
    loader = DataLoader(make_dataset(23), batch_size=5, shuffle=True, seed=3)
    for _ in range(3):
        seen = [i for b in labels_of(loader) for i in b]
        assert sorted(seen) == list(range(23))


def test_seeded_shuffle_is_reproducible_and_differs_per_epoch():
    a = DataLoader(make_dataset(20), batch_size=4, shuffle=True, seed=7)
    b = DataLoader(make_dataset(20), batch_size=4, shuffle=True, seed=7)
    epochs_a = [labels_of(a) for _ in range(3)]
    epochs_b = [labels_of(b) for _ in range(3)]
    assert epochs_a == epochs_b
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]
    assert epochs_a[0] != labels_of(DataLoader(make_dataset(20), batch_size=4))  # actually shuffled
    assert labels_of(DataLoader(make_dataset(20), batch_size=4, shuffle=True, seed=8)) != epochs_a[0]


def test_unseeded_shuffle_follows_manual_seed():
    loader = DataLoader(make_dataset(20), batch_size=4, shuffle=True)
    tinytorch.manual_seed(11)
    first = [labels_of(loader) for _ in range(2)]
    tinytorch.manual_seed(11)
    again = [labels_of(loader) for _ in range(2)]
    assert first == again
    assert first[0] != first[1]


def test_inputs_and_labels_stay_paired_when_shuffled():
    for x, y in DataLoader(make_dataset(17, 3), batch_size=5, shuffle=True, seed=0):
        np.testing.assert_array_equal(x.data[:, 0], y.data * 3)


class Squares(Dataset):
    """A plain Dataset without a vectorised get_batch: samples are (x, x**2) as ndarrays."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return np.array([i], dtype=np.float32), np.array(i * i)


class Single(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return Tensor(np.full(2, i, dtype=np.float32))


def test_custom_dataset_samples_are_stacked():
    x, y = next(iter(DataLoader(Squares(), batch_size=4)))
    assert x.shape == (4, 1) and y.shape == (4,)
    np.testing.assert_array_equal(y.data, [0, 1, 4, 9])
    batch = next(iter(DataLoader(Single(), batch_size=3)))
    assert isinstance(batch, Tensor) and batch.shape == (3, 2)
    np.testing.assert_array_equal(batch.data[:, 0], [0, 1, 2])


def test_bad_inputs_name_the_values():
    with pytest.raises(ValueError, match=r"same first dimension, got lengths \[3, 4\]"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(ValueError, match=r"empty \(shapes \[\(0, 2\)\]\)"):
        TensorDataset(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        DataLoader(make_dataset(), batch_size=0)
    with pytest.raises(TypeError, match=r"batch_size must be a positive int, got 2.0 \(float\)"):
        DataLoader(make_dataset(), batch_size=2.0)

    class Empty(Dataset):
        def __len__(self):
            return 0

    with pytest.raises(ValueError, match="dataset Empty is empty"):
        DataLoader(Empty())
