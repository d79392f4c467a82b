"""PyTorch's tensor factories: values and dtypes against numpy, seeded randomness, clear errors."""

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor


@pytest.mark.parametrize("name, numpy_fn", [("zeros", np.zeros), ("ones", np.ones)])
@pytest.mark.parametrize("size", [(2, 3), ((2, 3),), ([2, 3],), (4,), ((),)])
def test_zeros_ones_take_sizes_as_torch_does(name, numpy_fn, size):
    t = getattr(tinytorch, name)(*size)
    shape = tuple(size[0]) if isinstance(size[0], (tuple, list)) else size
    np.testing.assert_array_equal(t.data, numpy_fn(shape))
    assert t.dtype == np.float32 and t.shape == shape and not t.requires_grad


def test_factories_take_dtype_and_requires_grad():
    t = tinytorch.zeros(2, dtype=tinytorch.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad and t.is_leaf
    assert tinytorch.ones(3, dtype="int64").dtype == np.int64
    assert tinytorch.tensor([1.0, 2.0], requires_grad=True).requires_grad


def test_tensor_copies_and_keeps_integers_integer():
    source = np.array([1.0, 2.0], dtype=np.float32)
    t = tinytorch.tensor(source)
    source[0] = 9.0
    assert t.data[0] == 1.0  # a copy, as torch.tensor makes
    assert tinytorch.tensor([1, 2]).dtype == np.int64
    assert tinytorch.tensor([0.5]).dtype == np.float32
    assert tinytorch.tensor(np.zeros(2)).dtype == np.float32  # float32 by default, even from float64 data
    assert tinytorch.tensor([True]).dtype == np.bool_
    assert tinytorch.tensor(Tensor([3.0])).data.tolist() == [3.0]


@pytest.mark.parametrize("fill, dtype", [(7, np.int64), (2.5, np.float32), (True, np.bool_)])
def test_full_takes_its_dtype_from_the_fill_value(fill, dtype):
    t = tinytorch.full((2, 3), fill)
    np.testing.assert_array_equal(t.data, np.full((2, 3), fill))
    assert t.dtype == dtype
    assert tinytorch.full(4, 1, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("args, expected, dtype", [
    ((5,), np.arange(5), np.int64),
    ((2, 7), np.arange(2, 7), np.int64),
    ((0, 10, 3), np.arange(0, 10, 3), np.int64),
    ((5, 0, -2), np.arange(5, 0, -2), np.int64),
    ((0.0, 1.0, 0.25), np.arange(0.0, 1.0, 0.25), np.float32),
    ((3.5,), np.arange(3.5), np.float32),
])
def test_arange_equals_numpy_with_torch_dtypes(args, expected, dtype):
    t = tinytorch.arange(*args)
    np.testing.assert_array_equal(t.data, expected.astype(dtype))
    assert t.dtype == dtype


@pytest.mark.parametrize("name", ["randn", "rand"])
def test_random_factories_follow_manual_seed(name):
    factory = getattr(tinytorch, name)
    tinytorch.manual_seed(3)
    first = factory(4, 5)
    tinytorch.manual_seed(3)
    again = factory((4, 5))
    np.testing.assert_array_equal(first.data, again.data)
    assert first.dtype == np.float32 and first.shape == (4, 5)
    assert not np.array_equal(factory(4, 5).data, first.data)


def test_random_factories_have_the_right_distribution():
    tinytorch.manual_seed(0)
    normal, uniform = tinytorch.randn(200_000).data, tinytorch.rand(200_000).data
    assert abs(normal.mean()) < 0.01 and abs(normal.std() - 1.0) < 0.01
    assert uniform.min() >= 0.0 and uniform.max() < 1.0 and abs(uniform.mean() - 0.5) < 0.01


def test_like_factories_copy_shape_and_dtype():
    base = Tensor(np.ones((2, 3)), dtype=np.float64)
    for name, value in [("zeros_like", 0.0), ("ones_like", 1.0)]:
        t = getattr(tinytorch, name)(base)
        assert t.shape == (2, 3) and t.dtype == np.float64 and np.all(t.data == value)
    assert tinytorch.zeros_like(np.zeros(4, dtype=np.int64)).dtype == np.int64
    assert tinytorch.ones_like(base, dtype=np.float32).dtype == np.float32
    tinytorch.manual_seed(1)
    r = tinytorch.randn_like(base, requires_grad=True)
    assert r.shape == (2, 3) and r.dtype == np.float64 and r.requires_grad
    tinytorch.manual_seed(1)
    np.testing.assert_array_equal(tinytorch.randn_like(base).data, r.data)


@pytest.mark.parametrize("call, error, message", [
    (lambda: tinytorch.zeros(2, -1), ValueError, r"zeros: size\[1\] must be a non-negative int, got -1"),
    (lambda: tinytorch.ones(2.5), TypeError, r"ones: size\[0\] must be a non-negative int, got 2.5"),
    (lambda: tinytorch.randn(2, dtype=np.int64), TypeError, "randn: dtype must be float32 or float64"),
    (lambda: tinytorch.zeros(2, dtype="no-such-type"), TypeError, "zeros: dtype must be a numpy dtype"),
    (lambda: tinytorch.zeros(2, requires_grad="yes"), TypeError, "zeros: requires_grad must be a bool"),
    (lambda: tinytorch.arange(0, 5, 0), ValueError, "arange: step must be non-zero, got 0"),
    (lambda: tinytorch.arange("5"), TypeError, "arange: end must be a real number"),
    (lambda: tinytorch.full((2,), "x"), TypeError, "full: fill_value must be a number or a bool"),
    (lambda: tinytorch.zeros_like([1, 2]), TypeError, "zeros_like: expected a Tensor or an ndarray"),
    (lambda: tinytorch.ones(2, dtype=np.int64, requires_grad=True), TypeError, "floating-point"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
