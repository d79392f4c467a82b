"""The backward engine: linear cost, no recursion limit, accumulation, grad modes, dtypes and errors."""

import sys
import time

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor, enable_grad, is_grad_enabled, no_grad
from tinytorch.core import functions as F
from tinytorch.nn.layers import Linear


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True, dtype=dtype)


def test_backward_is_linear_in_graph_size():
    """h*0.5 + h*0.5 uses h twice: 400 rounds hold 2^400 paths, but only 1200 nodes."""
    x = leaf(3.0)
    h = x
    for _ in range(400):
        h = h * 0.5 + h * 0.5
    start = time.perf_counter()
    h.backward()
    elapsed = time.perf_counter() - start
    assert elapsed < 30.0, f"backward over 1200 nodes took {elapsed:.2f} s"  # a hang limit: 2^400 paths never end
    assert h.item() == 3.0
    assert x.grad == 1.0  # exactly: every step multiplies the gradient by 0.5 + 0.5


def test_deep_chain_has_no_recursion_limit():
    x = leaf([1.0, 2.0])
    h = x
    depth = 5000
    assert depth > sys.getrecursionlimit()
    for _ in range(depth):
        h = h * 1.0 + 1.0
    h.sum().backward()
    np.testing.assert_array_equal(h.data, [1.0 + depth, 2.0 + depth])
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_two_forwards_accumulate_leaf_gradients_and_zero_grad_clears():
    layer = Linear(3, 2)
    x = Tensor(np.array([[1.0, 2.0, 3.0]], dtype=np.float32))
    layer(x).sum().backward()
    first = layer.weight.grad.copy()
    np.testing.assert_allclose(first, np.repeat(x.data.T, 2, axis=1))
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad, 2 * first)
    np.testing.assert_allclose(layer.bias.grad, [2.0, 2.0])
    layer.zero_grad()
    assert layer.weight.grad is None and layer.bias.grad is None


def test_one_graph_backward_twice_needs_retain_graph_like_torch():
    x = leaf([1.0, -2.0])
    y = (x * x).sum()  # dy/dx = 2x
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, 2 * 2 * x.data)
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()  # the second call did not keep the graph
    np.testing.assert_array_equal(x.grad, 2 * 2 * x.data)  # the refused backward stored nothing


def test_leaf_gradient_is_a_private_copy():
    """Editing one leaf's .grad in place must not change another's (Add passes the same array to both)."""
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    a.grad *= 10
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_no_grad_builds_no_graph():
    x = leaf([1.0, 2.0])
    with no_grad():
        assert not is_grad_enabled()
        y = (x * 2).exp().sum()
    assert is_grad_enabled()
    assert not y.requires_grad and y._ctx is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_enable_grad_inside_no_grad():
    x = leaf([1.0, 2.0])
    with no_grad():
        with enable_grad():
            y = (x * 3).sum()
        z = x * 3
        assert not is_grad_enabled()
    assert y.requires_grad and y._ctx is not None
    assert z._ctx is None
    y.backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            1 / 0
    assert is_grad_enabled()


def test_ops_on_constants_build_no_graph():
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    c = (a * b).exp() @ b
    assert not c.requires_grad and c._ctx is None


def test_non_scalar_backward_needs_a_gradient():
    y = leaf(np.ones((2, 3))) * 2
    with pytest.raises(ValueError, match=r"non-scalar output of shape \(2, 3\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"gradient shape \(3,\) does not match tensor shape \(2, 3\)"):
        y.backward(np.ones(3))


@pytest.mark.parametrize("wrap", [np.asarray, Tensor], ids=["ndarray", "Tensor"])
def test_backward_accepts_an_ndarray_or_tensor_gradient(wrap):
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * x
    seed = np.array([[1.0, 0.0], [2.0, -1.0]])
    y.backward(wrap(seed))
    np.testing.assert_array_equal(x.grad, seed * 2 * x.data)


def test_intermediate_grad_only_with_retain_grad():
    x = leaf([1.0, 2.0])
    hidden = x * 3
    kept = x * 2
    kept.retain_grad()
    (hidden * kept).sum().backward()
    assert hidden.grad is None
    np.testing.assert_array_equal(kept.grad, hidden.data)  # d(hidden*kept)/d(kept)
    np.testing.assert_array_equal(x.grad, 12 * x.data)  # d(6 x^2)/dx
    assert x.is_leaf and not kept.is_leaf


def test_detach_cuts_the_graph():
    x = leaf([1.0, 2.0])
    y = (x * x.detach()).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, x.data)


DTYPE_OPS = [
    ("arith_scalars", lambda x: 2 * x - 1 + x / 3.0 - 0.5 / (x * x + 1)),
    ("pow", lambda x: x**2 + 2**x + x.abs() ** 0.5 + x.abs() ** x),
    ("ndarray_float64_constant", lambda x: x * np.full(x.shape, 0.3) + np.float64(1.5) * x),
    ("reductions", lambda x: x.sum(axis=0) + x.mean(axis=0) + x.max(axis=0) + x.var(axis=0)),
    ("pointwise", lambda x: x.exp() + x.abs().log() + x.abs().sqrt() + x.tanh() + x.sigmoid() + x.relu()),
    ("activations", lambda x: x.gelu() + x.gelu("none") + x.softmax() + x.log_softmax()),
    ("shape", lambda x: x.reshape(-1).reshape(3, 4).transpose().permute(1, 0)[1:, [0, 0, 2]]),
    ("select", lambda x: F.where(x.data > 0, x, 0.5) + x.masked_fill(x.data < 0, 1.0) + x.clip(-0.5, 0.5)),
    ("join", lambda x: F.concatenate([x, x * 2], axis=0) + F.stack([x, x], axis=0).sum(axis=0).reshape(1, 3, 4)[0].sum()),
    ("matmul", lambda x: x @ x.T + F.linear(x, x.T, x[:, 0])),
    ("layer_norm", lambda x: F.layer_norm(x, x[0], x[1])),
    ("cross_entropy", lambda x: F.cross_entropy(x, np.array([0, 3, 1]))),
    ("attention", lambda x: F.scaled_dot_product_attention_fused(x, x, x, allowed=np.tril(np.ones((3, 3), bool)))),
    ("embedding_dropout", lambda x: F.embedding(x, np.array([0, 2, 2])) + F.dropout(x, 0.3, np.random.default_rng(0))),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, op", DTYPE_OPS, ids=[d[0] for d in DTYPE_OPS])
def test_dtype_is_kept_through_ops_and_gradients(name, op, dtype):
    x = Tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True, dtype=dtype)
    out = op(x)
    assert out.dtype == dtype, f"{name}: output is {out.dtype}"
    out.backward(np.ones(out.shape, dtype=dtype))
    assert x.grad.dtype == dtype, f"{name}: gradient is {x.grad.dtype}"
    assert np.all(np.isfinite(x.grad))


@pytest.mark.parametrize("name, op", DTYPE_OPS, ids=[d[0] for d in DTYPE_OPS])
def test_every_backward_returns_float32_for_float32(name, op):
    """Each node's backward, not just the leaf's final (cast) gradient, stays float32: no silent float64."""
    x = Tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    stack, seen = [op(x)], set()
    while stack:
        node = stack.pop()
        if node._ctx is None or id(node) in seen:
            continue
        seen.add(id(node))
        grads = node._ctx.backward(np.ones(node.shape, dtype=np.float32))
        for g in grads if isinstance(grads, tuple) else (grads,):
            assert g is None or g.dtype == np.float32, f"{name}: {type(node._ctx).__name__}.backward gave {g.dtype}"
        stack.extend(node._ctx.inputs)
    assert len(seen) > 0


def test_cast_sends_the_gradient_back_in_the_source_dtype():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64 and y.requires_grad
    (y * y).float().sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_float_data_defaults_to_float32():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.array([1.0], dtype=np.float64)).dtype == np.float32
    assert Tensor(np.array([1.0]), dtype=np.float64).dtype == np.float64
    assert Linear(2, 3).weight.dtype == np.float32


def test_integer_tensors_hold_token_ids():
    ids = Tensor([[1, 4, 1]])
    assert ids.dtype.kind == "i" and ids.shape == (1, 3)
    assert Tensor(np.array([1, 2], dtype=np.int32)).dtype == np.int32
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        Tensor([1, 2], requires_grad=True)
    table = leaf(np.arange(15.0).reshape(5, 3))
    rows = table[ids]  # (1, 3, 3)
    np.testing.assert_array_equal(rows.data[0], table.data[[1, 4, 1]])
    rows.sum().backward()
    np.testing.assert_array_equal(table.grad[:, 0], [0, 2, 0, 0, 1])
    assert (ids == 1).dtype == np.bool_ and not (ids == 1).requires_grad


def test_comparisons_carry_no_gradient():
    x = leaf([1.0, -2.0, 3.0])
    mask = x > 0
    assert not mask.requires_grad and mask._ctx is None
    np.testing.assert_array_equal(mask.data, [True, False, True])


def test_manual_seed_makes_dropout_repeatable():
    x = Tensor(np.ones((4, 6)))
    tinytorch.manual_seed(5)
    first = F.dropout(x, 0.5, tinytorch.core.random.get_rng()).data
    tinytorch.manual_seed(5)
    second = F.dropout(x, 0.5, tinytorch.core.random.get_rng()).data
    np.testing.assert_array_equal(first, second)
