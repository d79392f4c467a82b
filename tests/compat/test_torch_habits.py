"""PyTorch spellings next to the numpy ones: each compared with numpy, new gradients by finite differences."""

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor
from tinytorch.testing import gradcheck

X = np.array([[1.0, 5.0, 3.0, -2.0], [7.0, 2.0, 7.0, 0.5], [-1.0, -4.0, 0.0, 6.0]], dtype=np.float32)


def leaf(values=X, dtype=np.float64):
    return Tensor(np.array(values), requires_grad=True, dtype=dtype)


# ----- dim / keepdim on reductions -------------------------------------------------------------------
@pytest.mark.parametrize("name, numpy_fn", [("sum", np.sum), ("mean", np.mean), ("var", np.var), ("std", np.std)])
@pytest.mark.parametrize("dim", [0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_dim_keepdim_equal_axis_keepdims_and_numpy(name, numpy_fn, dim, keepdim):
    x = Tensor(X)
    torch_style = getattr(x, name)(dim=dim, keepdim=keepdim)
    numpy_style = getattr(x, name)(axis=dim, keepdims=keepdim)
    np.testing.assert_array_equal(torch_style.data, numpy_style.data)
    np.testing.assert_allclose(torch_style.data, numpy_fn(X, axis=dim, keepdims=keepdim), rtol=1e-6)


def test_var_correction_is_ddof_and_the_default_stays_numpy_population_variance():
    x = Tensor(X)
    np.testing.assert_allclose(x.var(dim=1, correction=1).data, np.var(X, axis=1, ddof=1), rtol=1e-6)
    np.testing.assert_allclose(x.var(dim=1).data, np.var(X, axis=1), rtol=1e-6)
    np.testing.assert_allclose(x.std(dim=0, correction=1).data, np.std(X, axis=0, ddof=1), rtol=1e-6)


@pytest.mark.parametrize("call", [
    lambda x: x.sum(axis=0, dim=0), lambda x: x.mean(keepdims=True, keepdim=True), lambda x: x.var(ddof=1, correction=1),
])
def test_both_spellings_at_once_is_a_type_error(call):
    with pytest.raises(TypeError, match="not both"):
        call(Tensor(X))


def test_keepdim_must_be_a_bool():
    with pytest.raises(TypeError, match="keepdim must be a bool, got 'yes'"):
        Tensor(X).sum(dim=0, keepdim="yes")


# ----- max / min with dim: values and indices --------------------------------------------------------
@pytest.mark.parametrize("name, arg, extreme", [("max", np.argmax, np.max), ("min", np.argmin, np.min)])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim_return_values_and_indices_like_numpy(name, arg, extreme, dim, keepdim):
    values, indices = getattr(Tensor(X), name)(dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(values.data, extreme(X, axis=dim, keepdims=keepdim))
    np.testing.assert_array_equal(indices.data, arg(X, axis=dim, keepdims=keepdim))
    assert indices.dtype == np.int64 and not indices.requires_grad


def test_max_with_dim_is_a_named_tuple_and_without_dim_a_tensor():
    result = Tensor(X).max(dim=1)
    assert result.values is result[0] and result.indices is result[1]
    whole = Tensor(X).max()
    assert isinstance(whole, Tensor) and whole.item() == X.max()
    assert Tensor(X).min().item() == X.min()
    np.testing.assert_array_equal(Tensor(X).max(0).data, X.max(axis=0))  # axis positionally: numpy's meaning


def test_max_with_dim_sends_the_gradient_to_the_first_maximum_only():
    x = leaf([[3.0, 1.0, 3.0], [0.0, 2.0, 2.0]])
    x.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim, keepdim", [(0, False), (1, True), (-1, False)])
def test_max_min_with_dim_gradients_by_finite_differences(name, dim, keepdim):
    x = leaf(X.astype(np.float64) + np.arange(12).reshape(3, 4) * 1e-3)  # no ties
    assert gradcheck(lambda t: getattr(t, name)(dim=dim, keepdim=keepdim).values, x, name=f"{name}(dim={dim})")


def test_min_without_dim_gradient_by_finite_differences():
    x = leaf(X.astype(np.float64) + np.arange(12).reshape(3, 4) * 1e-3)
    assert gradcheck(lambda t: t.min(axis=1), x, name="min(axis=1)")


@pytest.mark.parametrize("dim, error, match", [
    (2, IndexError, "dim 2 is out of range"), (-3, IndexError, "dim -3 is out of range"),
    (1.0, TypeError, "dim must be an int or a tuple of ints, got 1.0"), ((0, 1), TypeError, r"dim must be one int .*dim=\(0, 1\)"),
])
def test_max_with_a_bad_dim_names_it(dim, error, match):
    with pytest.raises(error, match="max: " + match):
        Tensor(X).max(dim=dim)


@pytest.mark.parametrize("name, numpy_fn", [("argmax", np.argmax), ("argmin", np.argmin)])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_argmax_argmin_equal_numpy_in_both_spellings(name, numpy_fn, dim, keepdim):
    ties = np.array([[3.0, 1.0, 3.0], [0.0, 2.0, 2.0]], dtype=np.float32)
    for values in (X, ties):
        expected = numpy_fn(values, axis=dim, keepdims=keepdim)
        by_dim = getattr(Tensor(values), name)(dim=dim, keepdim=keepdim)
        by_axis = getattr(Tensor(values), name)(dim, keepdim)
        np.testing.assert_array_equal(by_dim.data, expected)
        np.testing.assert_array_equal(by_axis.data, expected)
        assert by_dim.dtype == np.int64 and not by_dim.requires_grad


@pytest.mark.parametrize("call, error, match", [
    (lambda: Tensor(X).argmax(dim=2), IndexError, r"argmax: (dim|axis) 2 is out of range"),
    (lambda: Tensor(X).argmin(dim=(0, 1)), TypeError, r"argmin: (dim|axis) must be one int .*\(0, 1\)"),
    (lambda: Tensor(np.zeros((0, 3))).argmax(), ValueError, "argmax: cannot reduce over an empty axis"),
])
def test_argmax_argmin_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----- cat and stack -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_and_stack_with_dim_equal_numpy(dim):
    a, b = X, X[:, ::-1] * 2
    np.testing.assert_array_equal(tinytorch.cat([Tensor(a), Tensor(b)], dim=dim).data, np.concatenate([a, b], dim))
    np.testing.assert_array_equal(tinytorch.cat([Tensor(a), Tensor(b)], dim).data, np.concatenate([a, b], dim))
    np.testing.assert_array_equal(tinytorch.concatenate([Tensor(a), b], dim=dim).data, np.concatenate([a, b], dim))
    np.testing.assert_array_equal(tinytorch.stack([Tensor(a), Tensor(b)], dim=dim).data, np.stack([a, b], dim))


def test_cat_gradient_by_finite_differences():
    a, b = leaf(X), leaf(X[:2] * 3)
    assert gradcheck(lambda p, q: tinytorch.cat([p, q], dim=0), a, b, name="cat")


@pytest.mark.parametrize("fn", [tinytorch.cat, tinytorch.stack])
def test_cat_and_stack_refuse_nothing_and_a_lone_tensor(fn):
    with pytest.raises(ValueError, match="at least one tensor"):
        fn([])
    with pytest.raises(TypeError, match="sequence of tensors"):
        fn(Tensor(X))


def test_stack_with_axis_and_dim_is_a_type_error():
    with pytest.raises(TypeError, match="not both"):
        tinytorch.stack([Tensor(X)], axis=0, dim=0)


# ----- shape and array habits --------------------------------------------------------------------------
def test_view_t_dim_numel_match_numpy():
    x = Tensor(X)
    np.testing.assert_array_equal(x.view(2, 6).data, X.reshape(2, 6))
    np.testing.assert_array_equal(x.view(-1).data, X.reshape(-1))
    np.testing.assert_array_equal(x.t().data, X.T)
    np.testing.assert_array_equal(Tensor(X[0]).t().data, X[0])
    assert x.dim() == 2 and x.numel() == 12 and x.size == 12  # size is TinyTorch's element count


def test_t_of_a_3d_tensor_is_a_clear_error():
    with pytest.raises(ValueError, match=r"at most 2 dimensions, got shape \(1, 3, 4\)"):
        Tensor(X[None]).t()


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_unsqueeze_and_squeeze_match_numpy(dim):
    x = Tensor(X)
    np.testing.assert_array_equal(x.unsqueeze(dim).data, np.expand_dims(X, dim))
    np.testing.assert_array_equal(x.unsqueeze(dim).squeeze(dim).data, X)
    np.testing.assert_array_equal(Tensor(X[None, :, None]).squeeze().data, X)


def test_detach_numpy_tolist():
    x = leaf()
    y = (x * 2).detach()
    assert not y.requires_grad and y._grad_fn is None
    np.testing.assert_array_equal(y.numpy(), X * 2)
    assert Tensor(X).tolist() == X.tolist()


# ----- clamp and pow -----------------------------------------------------------------------------------
def test_clamp_and_pow_equal_numpy():
    x = Tensor(X)
    np.testing.assert_array_equal(x.clamp(min=-1.0, max=4.0).data, np.clip(X, -1.0, 4.0))
    np.testing.assert_array_equal(x.clamp(min=0.0).data, np.clip(X, 0.0, None))
    np.testing.assert_array_equal(x.clamp(max=0.0).data, np.clip(X, None, 0.0))
    np.testing.assert_allclose(x.pow(2).data, X**2)
    np.testing.assert_allclose(Tensor(np.abs(X) + 1).pow(Tensor(X)).data, (np.abs(X) + 1) ** X, rtol=1e-6)


def test_clamp_gradient_by_finite_differences_and_zero_outside():
    x = leaf([[-2.0, -0.5, 0.3], [0.9, 1.7, 3.0]])
    assert gradcheck(lambda t: t.clamp(min=-1.0, max=1.0), x, name="clamp")
    x.grad = None
    x.clamp(min=-1.0, max=1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])


def test_pow_gradient_by_finite_differences():
    base, exponent = leaf(np.abs(X) + 0.5), leaf(X / 4)
    assert gradcheck(lambda b: b.pow(3), base, name="pow(3)")
    assert gradcheck(lambda b, e: b.pow(e), base, exponent, name="pow(tensor)")
