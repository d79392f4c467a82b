"""The PyTorch spellings against PyTorch itself: the same call, the same values and gradients (skipped without torch)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinytorch  # noqa: E402
from tinytorch import Tensor  # noqa: E402

X = np.array([[1.0, 5.0, 3.0, -2.0], [7.0, 2.0, 7.5, 0.5], [-1.0, -4.0, 0.0, 6.0]])


def both(values=X):
    """The same float64 leaf in tinytorch and in torch."""
    return Tensor(values, requires_grad=True, dtype=np.float64), torch.tensor(values, requires_grad=True)


def assert_same(ours, theirs, ours_leaf=None, theirs_leaf=None):
    """Equal values; and equal gradients of a fixed weighted sum when leaves are given."""
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    if ours_leaf is not None:
        weights = np.random.default_rng(0).standard_normal(ours.shape)
        (ours * Tensor(weights, dtype=np.float64)).sum().backward()
        (theirs * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(ours_leaf.grad, theirs_leaf.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["sum", "mean"])
@pytest.mark.parametrize("dim, keepdim", [(0, False), (1, True), (-1, False), ((0, 1), True)])
def test_sum_mean_with_dim_match_torch(name, dim, keepdim):
    (a, b) = both()
    assert_same(getattr(a, name)(dim=dim, keepdim=keepdim), getattr(b, name)(dim=dim, keepdim=keepdim), a, b)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("correction", [0, 1])
def test_var_std_with_correction_match_torch(name, correction):
    (a, b) = both()
    assert_same(getattr(a, name)(dim=1, correction=correction), getattr(b, name)(dim=1, correction=correction), a, b)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim, keepdim", [(0, False), (1, True), (-1, False)])
def test_max_min_with_dim_match_torch_values_indices_and_gradients(name, dim, keepdim):
    (a, b) = both(np.array([[3.0, 1.0, 3.0, 0.0], [0.0, 2.0, 2.0, -1.0], [5.0, 5.0, 5.0, 5.0]]))  # ties
    ours, theirs = getattr(a, name)(dim=dim, keepdim=keepdim), getattr(b, name)(dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
    assert_same(ours.values, theirs.values, a, b)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, True), (1, False)])
def test_argmax_argmin_match_torch(name, dim, keepdim):
    values = np.array([[3.0, 1.0, 3.0, 0.0], [0.0, 2.0, 2.0, -1.0], [5.0, 5.0, 5.0, 5.0]])  # ties: torch picks the first
    ours = getattr(Tensor(values), name)(dim=dim, keepdim=keepdim)
    theirs = getattr(torch.tensor(values), name)(dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_max_and_min_without_dim_match_torch_amax_amin():
    (a, b) = both(X)
    assert_same(a.max(), torch.amax(b), a, b)
    (a, b) = both(X)
    assert_same(a.min(axis=0), torch.amin(b, dim=0), a, b)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_and_stack_match_torch(dim):
    (a, b), (c, d) = both(X), both(X * 2)
    assert_same(tinytorch.cat([a, c], dim=dim), torch.cat([b, d], dim=dim), a, b)
    (a, b), (c, d) = both(X), both(X * 2)
    assert_same(tinytorch.stack([a, c], dim=dim), torch.stack([b, d], dim=dim), c, d)


def test_clamp_pow_t_view_unsqueeze_squeeze_match_torch():
    (a, b) = both()
    assert_same(a.clamp(min=-1.0, max=4.0), b.clamp(min=-1.0, max=4.0), a, b)
    (a, b) = both(np.abs(X) + 0.5)
    assert_same(a.pow(2.5), b.pow(2.5), a, b)
    (a, b) = both()
    assert_same(a.t(), b.t(), a, b)
    (a, b) = both()
    assert_same(a.view(2, 6), b.view(2, 6), a, b)
    (a, b) = both()
    assert_same(a.unsqueeze(1).squeeze(1), b.unsqueeze(1).squeeze(1), a, b)
    assert a.dim() == b.dim() and a.numel() == b.numel() and a.tolist() == b.tolist()


def test_factories_match_torch_values_and_dtypes():
    assert tinytorch.zeros(2, 3).dtype == np.float32 and torch.zeros(2, 3).dtype == torch.float32
    np.testing.assert_array_equal(tinytorch.ones(2, 3).data, torch.ones(2, 3).numpy())
    for args in [(5,), (2, 9, 3), (0.0, 1.0, 0.25)]:
        ours, theirs = tinytorch.arange(*args), torch.arange(*args)
        np.testing.assert_array_equal(ours.data, theirs.numpy())
        assert ours.data.dtype == theirs.numpy().dtype
    for fill in (7, 2.5, True):
        ours, theirs = tinytorch.full((2, 2), fill), torch.full((2, 2), fill)
        np.testing.assert_array_equal(ours.data, theirs.numpy())
        assert ours.data.dtype == theirs.numpy().dtype
    assert tinytorch.tensor([1, 2]).data.dtype == torch.tensor([1, 2]).numpy().dtype
