"""Finite-difference checks (float64) of every op's backward in the API contract, one test id per case."""

import numpy as np
import pytest

from tinytorch import Tensor
from tinytorch.core import functions as F
from tinytorch.core.autograd import Function
from tinytorch.testing import GradcheckError, gradcheck


def rand(*shape, seed=0, low=None, away_from=()):
    """A float64 leaf; `low` makes values > low, `away_from` keeps them 0.1 from each kink."""
    v = np.random.default_rng(seed).standard_normal(shape)
    if low is not None:
        v = low + 0.2 + np.abs(v)
    for kink in np.atleast_1d(away_from):
        v = np.where(v >= kink, v + 0.1, v - 0.1)
    return Tensor(v, requires_grad=True, dtype=np.float64)


ND = np.random.default_rng(7).standard_normal((3, 4)) + 3.0  # an ndarray constant, away from 0
MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
CAUSAL = np.tril(np.ones((4, 4), dtype=bool))


def logits_5x4():
    return (rand(5, 4),)


def ce(targets, **options):
    """Cross-entropy of (5, 4) logits against fixed integer targets."""
    return lambda logits: F.cross_entropy(logits, np.array(targets), **options)


# (test id, function, factory of its inputs)
CASES = [
    # arithmetic, scalar exponent and tensor exponent, unary minus
    ("add", lambda a, b: a + b, lambda: (rand(3, 4), rand(3, 4, seed=1))),
    ("sub", lambda a, b: a - b, lambda: (rand(3, 4), rand(3, 4, seed=1))),
    ("mul", lambda a, b: a * b, lambda: (rand(3, 4), rand(3, 4, seed=1))),
    ("div", lambda a, b: a / b, lambda: (rand(3, 4), rand(3, 4, seed=1, low=0.0))),
    ("same_input_twice", lambda a: a * a + a / (a * a), lambda: (rand(3, 4, low=0.0),)),
    ("pow_scalar", lambda a: a**3, lambda: (rand(3, 4),)),
    ("pow_fractional", lambda a: a**-1.5, lambda: (rand(3, 4, low=0.0),)),
    ("pow_tensor", lambda a, b: a**b, lambda: (rand(3, 4, low=0.0), rand(3, 4, seed=1))),
    ("pow_tensor_broadcast", lambda a, b: a**b, lambda: (rand(3, 1, low=0.0), rand(4, seed=1))),
    ("neg", lambda a: -a, lambda: (rand(3, 4),)),
    # reflected scalar ops
    ("rmul_scalar", lambda a: 2 * a, lambda: (rand(3, 4),)),
    ("radd_scalar", lambda a: 2.5 + a, lambda: (rand(3, 4),)),
    ("rsub_scalar", lambda a: 1 - a, lambda: (rand(3, 4),)),
    ("rdiv_scalar", lambda a: 2 / a, lambda: (rand(3, 4, low=0.0),)),
    ("rpow_scalar", lambda a: 2**a, lambda: (rand(3, 4),)),
    ("scalar_ops_right", lambda a: (a + 1) * 3 - a / 4 - 2, lambda: (rand(3, 4),)),
    # ndarray with Tensor, both orders
    ("ndarray_add", lambda a: ND + a + ND, lambda: (rand(3, 4),)),
    ("ndarray_sub", lambda a: (ND - a) - (a - ND) * ND, lambda: (rand(3, 4),)),
    ("ndarray_mul", lambda a: ND * a * ND, lambda: (rand(3, 4),)),
    ("ndarray_div", lambda a: ND / a + a / ND, lambda: (rand(3, 4, low=0.0),)),
    ("ndarray_pow", lambda a: ND**a + a**ND, lambda: (rand(3, 4, low=0.0),)),
    ("ndarray_matmul", lambda a: (ND.T @ a).sum(axis=0) + (a @ ND).sum(axis=1), lambda: (rand(3, 3),)),
    # broadcasting
    ("broadcast_add_3x1_1x4", lambda a, b: a + b, lambda: (rand(3, 1), rand(1, 4, seed=1))),
    ("broadcast_mul_3x1_1x4", lambda a, b: a * b, lambda: (rand(3, 1), rand(1, 4, seed=1))),
    ("broadcast_sub_rank", lambda a, b: a - b, lambda: (rand(5), rand(2, 3, 5, seed=1))),
    ("broadcast_div_rank", lambda a, b: a / b, lambda: (rand(2, 3, 4), rand(4, seed=1, low=0.0))),
    ("broadcast_scalar_tensor", lambda a, b: a * b + b, lambda: (rand(), rand(2, 3, seed=1))),
    ("broadcast_middle_axis", lambda a, b: a * b, lambda: (rand(2, 1, 4), rand(2, 3, 1, seed=1))),
    # matmul
    ("matmul_2d", lambda a, b: a @ b, lambda: (rand(3, 4), rand(4, 5, seed=1))),
    ("matmul_method", lambda a, b: a.matmul(b), lambda: (rand(3, 4), rand(4, 2, seed=1))),
    ("matmul_batched", lambda a, b: a @ b, lambda: (rand(2, 3, 4), rand(2, 4, 5, seed=1))),
    ("matmul_broadcast_rhs", lambda a, b: a @ b, lambda: (rand(2, 3, 4), rand(4, 5, seed=1))),
    ("matmul_broadcast_lhs", lambda a, b: a @ b, lambda: (rand(3, 4), rand(2, 4, 5, seed=1))),
    ("matmul_broadcast_batch", lambda a, b: a @ b, lambda: (rand(1, 2, 3, 4), rand(3, 1, 4, 2, seed=1))),
    ("matmul_vec_mat", lambda a, b: a @ b, lambda: (rand(4), rand(4, 5, seed=1))),
    ("matmul_mat_vec", lambda a, b: a @ b, lambda: (rand(3, 4), rand(4, seed=1))),
    ("matmul_vec_vec", lambda a, b: a @ b, lambda: (rand(4), rand(4, seed=1))),
    ("matmul_batched_vec", lambda a, b: a @ b, lambda: (rand(2, 3, 4), rand(4, seed=1))),
    ("matmul_vec_batched", lambda a, b: a @ b, lambda: (rand(4), rand(2, 4, 5, seed=1))),
    # Linear's fused op (weight is (in, out))
    ("linear", F.linear, lambda: (rand(3, 4), rand(4, 5, seed=1), rand(5, seed=2))),
    ("linear_3d_input", F.linear, lambda: (rand(2, 3, 4), rand(4, 5, seed=1), rand(5, seed=2))),
    ("linear_1d_input", F.linear, lambda: (rand(4), rand(4, 5, seed=1), rand(5, seed=2))),
    ("linear_no_bias", F.linear, lambda: (rand(2, 3, 4), rand(4, 5, seed=1))),
    # indexing
    ("getitem_slices", lambda a: a[1:, ::2], lambda: (rand(4, 5),)),
    ("getitem_negative_step", lambda a: a[::-1, -2], lambda: (rand(4, 5),)),
    ("getitem_int", lambda a: a[2], lambda: (rand(4, 5),)),
    ("getitem_ellipsis_none", lambda a: a[..., None, 1:3], lambda: (rand(2, 3, 4),)),
    ("getitem_repeated_ints", lambda a: a[[0, 2, 0, 0, 3]], lambda: (rand(4, 5),)),
    ("getitem_repeated_pairs", lambda a: a[np.array([0, 1, 0, 0]), np.array([2, 2, 2, 4])], lambda: (rand(4, 5),)),
    ("getitem_tensor_index", lambda a: a[Tensor(np.array([[1, 1], [3, 1]]))], lambda: (rand(4, 5),)),
    ("getitem_bool_mask", lambda a: a[MASK], lambda: (rand(3, 4),)),
    ("getitem_bool_rows", lambda a: a[np.array([True, False, True])], lambda: (rand(3, 4),)),
    # shape
    ("reshape_minus_one", lambda a: a.reshape(-1, 6) * np.arange(6.0), lambda: (rand(2, 3, 4),)),
    ("reshape_tuple", lambda a: a.reshape((4, 6)), lambda: (rand(2, 3, 4),)),
    ("transpose_default", lambda a: a.transpose(), lambda: (rand(2, 3, 4),)),
    ("transpose_dims", lambda a: a.transpose(0, 2), lambda: (rand(2, 3, 4),)),
    ("transpose_T", lambda a: a.T @ a, lambda: (rand(3, 4),)),
    ("permute", lambda a: a.permute(2, 0, 1), lambda: (rand(2, 3, 4),)),
    ("permute_negative", lambda a: a.permute((1, -1, 0)), lambda: (rand(2, 3, 4),)),
    # reductions
    ("sum_all", lambda a: a.sum(), lambda: (rand(2, 3, 4),)),
    ("sum_axis", lambda a: a.sum(axis=1), lambda: (rand(2, 3, 4),)),
    ("sum_tuple_keepdims", lambda a: a.sum(axis=(0, 2), keepdims=True), lambda: (rand(2, 3, 4),)),
    ("sum_negative_axis", lambda a: a.sum(axis=-1), lambda: (rand(2, 3, 4),)),
    ("mean_all", lambda a: a.mean(), lambda: (rand(2, 3, 4),)),
    ("mean_axis_keepdims", lambda a: a.mean(axis=2, keepdims=True), lambda: (rand(2, 3, 4),)),
    ("mean_tuple", lambda a: a.mean(axis=(0, -1)), lambda: (rand(2, 3, 4),)),
    ("max_all", lambda a: a.max(), lambda: (rand(2, 3, 4),)),
    ("max_axis", lambda a: a.max(axis=1), lambda: (rand(2, 3, 4),)),
    ("max_tuple_keepdims", lambda a: a.max(axis=(0, 2), keepdims=True), lambda: (rand(2, 3, 4),)),
    ("var_all", lambda a: a.var(), lambda: (rand(2, 3, 4),)),
    ("var_axis", lambda a: a.var(axis=-1), lambda: (rand(2, 3, 4),)),
    ("var_tuple_keepdims_ddof1", lambda a: a.var(axis=(0, 1), keepdims=True, ddof=1), lambda: (rand(2, 3, 4),)),
    # pointwise
    ("exp", lambda a: a.exp(), lambda: (rand(3, 4),)),
    ("log", lambda a: a.log(), lambda: (rand(3, 4, low=0.0),)),
    ("sqrt", lambda a: a.sqrt(), lambda: (rand(3, 4, low=0.0),)),
    ("abs", lambda a: a.abs(), lambda: (rand(3, 4, away_from=0.0),)),
    ("tanh", lambda a: a.tanh(), lambda: (rand(3, 4),)),
    ("sigmoid", lambda a: a.sigmoid(), lambda: (rand(3, 4) * 3,)),
    ("relu", lambda a: a.relu(), lambda: (rand(3, 4, away_from=0.0),)),
    ("gelu_tanh", lambda a: a.gelu(approximate="tanh"), lambda: (rand(3, 4) * 2,)),
    ("gelu_none", lambda a: a.gelu(approximate="none"), lambda: (rand(3, 4) * 2,)),
    ("softmax_last", lambda a: a.softmax(), lambda: (rand(2, 3, 4),)),
    ("softmax_dim0", lambda a: a.softmax(dim=0), lambda: (rand(2, 3, 4),)),
    ("log_softmax_last", lambda a: a.log_softmax(), lambda: (rand(2, 3, 4),)),
    ("log_softmax_dim1", lambda a: a.log_softmax(dim=1), lambda: (rand(2, 3, 4),)),
    ("cast_float64", lambda a: a.double() * a, lambda: (rand(3, 4),)),
    ("clip_both", lambda a: a.clip(-0.5, 0.5), lambda: (rand(4, 5, away_from=(-0.5, 0.5)),)),
    ("clip_min_only", lambda a: a.clip(min_value=0.3), lambda: (rand(4, 5, away_from=0.3),)),
    ("clip_max_only", lambda a: a.clip(max_value=-0.3), lambda: (rand(4, 5, away_from=-0.3),)),
    # selection and joining
    ("masked_fill", lambda a: a.masked_fill(MASK, -7.0), lambda: (rand(3, 4),)),
    ("masked_fill_broadcast", lambda a: a.masked_fill(MASK[0], 0.0), lambda: (rand(2, 3, 4),)),
    ("where", lambda a, b: F.where(MASK, a, b), lambda: (rand(3, 4), rand(3, 4, seed=1))),
    ("where_broadcast", lambda a, b: F.where(MASK[:, :1], a, b), lambda: (rand(1, 4), rand(3, 1, seed=1))),
    ("where_constant", lambda a: F.where(MASK, a, 0.5), lambda: (rand(3, 4),)),
    ("concatenate_axis0", lambda a, b: F.concatenate([a, b], axis=0), lambda: (rand(2, 4), rand(3, 4, seed=1))),
    ("concatenate_axis_last", lambda a, b: F.concatenate([a, b, a], axis=-1), lambda: (rand(2, 1), rand(2, 3, seed=1))),
    ("stack_axis0", lambda a, b: F.stack([a, b, a]), lambda: (rand(2, 3), rand(2, 3, seed=1))),
    ("stack_axis_last", lambda a, b: F.stack([a, b], axis=-1), lambda: (rand(2, 3), rand(2, 3, seed=1))),
    # fused neural-network ops
    ("layer_norm", F.layer_norm, lambda: (rand(2, 3, 5), rand(5, seed=1), rand(5, seed=2))),
    ("layer_norm_2d_eps", lambda x, g, b: F.layer_norm(x, g, b, eps=1e-3),
     lambda: (rand(4, 6), rand(6, seed=1), rand(6, seed=2))),
    ("cross_entropy_mean", ce([1, 0, 3, 3, 2]), logits_5x4),
    ("cross_entropy_sum", ce([1, 0, 3, 3, 2], reduction="sum"), logits_5x4),
    ("cross_entropy_none", ce([1, 0, 3, 3, 2], reduction="none"), logits_5x4),
    ("cross_entropy_ignore_index", ce([1, -1, 3, -1, 2], ignore_index=-1), logits_5x4),
    ("cross_entropy_ignore_sum", ce([0, 0, 3, 0, 2], ignore_index=0, reduction="sum"), logits_5x4),
    ("cross_entropy_ignore_none", ce([1, 3, 3, 0, 2], ignore_index=3, reduction="none"), logits_5x4),
    ("embedding_repeated_ids", lambda w: F.embedding(w, np.array([[1, 4, 1], [0, 1, 4]])), lambda: (rand(6, 3),)),
    ("attention", F.scaled_dot_product_attention_fused,
     lambda: (rand(2, 4, 3), rand(2, 5, 3, seed=1), rand(2, 5, 2, seed=2))),
    ("attention_mask", lambda q, k, v: F.scaled_dot_product_attention_fused(q, k, v, allowed=MASK[:, :4][[0, 1, 2, 0]]),
     lambda: (rand(2, 4, 3), rand(2, 4, 3, seed=1), rand(2, 4, 2, seed=2))),
    ("attention_causal_heads", lambda q, k, v: F.scaled_dot_product_attention_fused(q, k, v, allowed=CAUSAL),
     lambda: (rand(2, 2, 4, 3), rand(2, 2, 4, 3, seed=1), rand(2, 2, 4, 3, seed=2))),
    ("attention_broadcast_kv", F.scaled_dot_product_attention_fused,
     lambda: (rand(2, 3, 4, 3), rand(1, 1, 5, 3, seed=1), rand(2, 1, 5, 2, seed=2))),
    ("dropout_seeded_mask", lambda a: F.dropout(a, 0.4, np.random.default_rng(3)), lambda: (rand(4, 5),)),
]


@pytest.mark.parametrize("name, fn, make_inputs", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, fn, make_inputs):
    inputs = make_inputs()
    assert gradcheck(fn, *inputs, name=name)


def test_case_ids_are_unique():
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names))


def test_dropout_mask_is_not_trivial():
    """The dropout case above would prove nothing if its mask kept (or dropped) everything."""
    out = F.dropout(Tensor(np.ones((4, 5)), dtype=np.float64), 0.4, np.random.default_rng(3)).data
    assert 0 < np.count_nonzero(out) < out.size
    np.testing.assert_allclose(out[out != 0], 1 / 0.6)


class WrongSquare(Function):
    """x^2 with a deliberately wrong backward: 3x instead of 2x at the largest entry only."""

    def forward(self, a):
        self.a = a
        return a * a

    def backward(self, grad):
        slope = np.where(self.a == self.a.max(), 3.0, 2.0)
        return grad * slope * self.a


class NoGradForSecond(Function):
    """a * b whose backward forgets b's gradient."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        return grad * self.b, None


def test_gradcheck_reports_a_wrong_backward():
    x = Tensor(np.array([[0.5, -1.0], [2.0, 1.5]]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongSquare.apply, x, name="wrong_square")
    message = str(info.value)
    assert "gradcheck(wrong_square)" in message
    assert "input 0 of shape (2, 2)" in message
    assert "element (1, 0)" in message  # the only wrong entry, x = 2.0
    assert "expected" in message and "received" in message
    expected, received = [float(message.split(word + " ")[1].split(" ")[0]) for word in ("expected", "received")]
    assert abs(received / expected - 1.5) < 1e-6  # 3x / 2x


def test_gradcheck_reports_a_missing_gradient():
    a, b = rand(2, 3), rand(2, 3, seed=1)
    with pytest.raises(GradcheckError, match=r"gradcheck\(forgetful\): input 1 of shape \(2, 3\) received no gradient"):
        gradcheck(NoGradForSecond.apply, a, b, name="forgetful")


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="no input has requires_grad"):
        gradcheck(lambda a: a * 2, Tensor(np.ones(3)))


def test_gradcheck_does_not_touch_the_callers_tensors():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    before = x.data.copy()
    assert gradcheck(lambda a: a.exp(), x)
    assert x.grad is None and x.dtype == np.float32
    np.testing.assert_array_equal(x.data, before)
