"""Every op against PyTorch on the same float64 inputs: forward values, every input gradient, and errors."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

from tinytorch import Tensor  # noqa: E402
from tinytorch.core import functions as F  # noqa: E402
from tinytorch.nn.losses import BinaryCrossEntropyLoss, CrossEntropyLoss, MSELoss  # noqa: E402

ATOL, RTOL = 1e-10, 1e-8  # both sides compute in float64


def assert_matches_torch(tt_fn, torch_fn, *arrays, atol=ATOL, rtol=RTOL):
    """Run tt_fn and torch_fn on the same arrays; compare outputs and the gradient of every float input.

    Float arrays become leaves that require a gradient on both sides; integer and bool arrays
    (class ids, masks) are constants. The output is reduced with one fixed random weighting.
    """
    tt_inputs = [Tensor(a, requires_grad=a.dtype.kind == "f", dtype=a.dtype) for a in arrays]
    th_inputs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out, ref = tt_fn(*tt_inputs), torch_fn(*th_inputs)
    assert out.shape == tuple(ref.shape), f"output shape {out.shape} vs torch {tuple(ref.shape)}"
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, ref.detach().numpy(), atol=atol, rtol=rtol, err_msg="forward")
    weight = np.random.default_rng(0).standard_normal(out.shape)
    (out * Tensor(weight, dtype=np.float64)).sum().backward()
    (ref * torch.tensor(weight)).sum().backward()
    for i, (t, r) in enumerate(zip(tt_inputs, th_inputs)):
        if not t.requires_grad:
            continue
        expected = np.zeros(t.shape) if r.grad is None else r.grad.numpy()
        assert t.grad is not None, f"input {i} got no gradient"
        assert t.grad.shape == t.shape and t.grad.dtype == np.float64
        np.testing.assert_allclose(t.grad, expected, atol=atol, rtol=rtol, err_msg=f"gradient of input {i}")


def assert_both_raise(tt_fn, torch_fn, *arrays, tt_error, torch_error, match):
    """Both libraries reject the same bad input; ours with a message naming the values."""
    with pytest.raises(tt_error, match=match):
        tt_fn(*[Tensor(a, dtype=a.dtype) for a in arrays])
    with pytest.raises(torch_error):
        torch_fn(*[torch.tensor(a) for a in arrays])


def r(*shape, seed=0, positive=False):
    v = np.random.default_rng(seed).standard_normal(shape)
    return 0.2 + np.abs(v) if positive else v


ND = r(3, 4, seed=7) + 3.0
MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
CAUSAL = np.tril(np.ones((4, 4), dtype=bool))
IDS = np.array([1, 0, 3, 3, 2])


def same(fn):
    """An op spelled the same way in both libraries."""
    return fn, fn


def torch_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~torch.as_tensor(mask), float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


DROP_MASK = np.random.default_rng(3).random((4, 5)) >= 0.4  # what F.dropout draws from this seed

# (test id, tinytorch fn, torch fn, input arrays)
CASES = [
    ("add", *same(lambda a, b: a + b), (r(3, 4), r(3, 4, seed=1))),
    ("sub", *same(lambda a, b: a - b), (r(3, 4), r(3, 4, seed=1))),
    ("mul", *same(lambda a, b: a * b), (r(3, 4), r(3, 4, seed=1))),
    ("div", *same(lambda a, b: a / b), (r(3, 4), r(3, 4, seed=1, positive=True))),
    ("pow_scalar", *same(lambda a: a**3), (r(3, 4),)),
    ("pow_fractional", *same(lambda a: a**-1.5), (r(3, 4, positive=True),)),
    ("pow_tensor", *same(lambda a, b: a**b), (r(3, 4, positive=True), r(3, 4, seed=1))),
    ("pow_tensor_broadcast", *same(lambda a, b: a**b), (r(3, 1, positive=True), r(4, seed=1))),
    ("pow_zero_exponent_at_zero", *same(lambda a: a**0 + a**1), (np.array([0.0, 1.5, -2.0]),)),
    ("pow_tensor_zero_exponent_at_zero", *same(lambda a, b: a**b), (np.array([0.0, 0.0, 2.0]), np.array([0.0, 2.0, 0.0]))),
    ("neg", *same(lambda a: -a), (r(3, 4),)),
    ("reflected_scalars", *same(lambda a: 2 * a + (1 - a) + 2.5 + a), (r(3, 4),)),
    ("rdiv_scalar", *same(lambda a: 2 / a), (r(3, 4, positive=True),)),
    ("rpow_scalar", *same(lambda a: 2**a), (r(3, 4),)),
    ("ndarray_ops", lambda a: ND + a - ND * a + ND / a - (ND - a) / ND,
     lambda a: (n := torch.tensor(ND)) + a - n * a + n / a - (n - a) / n, (r(3, 4, positive=True),)),
    ("ndarray_pow", lambda a: ND**a + a**ND, lambda a: torch.tensor(ND) ** a + a ** torch.tensor(ND),
     (r(3, 4, positive=True),)),
    ("broadcast_3x1_1x4", *same(lambda a, b: a * b + a - b), (r(3, 1), r(1, 4, seed=1))),
    ("broadcast_rank", *same(lambda a, b: a / b - b), (r(2, 3, 4), r(4, seed=1, positive=True))),
    ("broadcast_middle", *same(lambda a, b: a * b), (r(2, 1, 4), r(2, 3, 1, seed=1))),
    ("matmul_2d", *same(lambda a, b: a @ b), (r(3, 4), r(4, 5, seed=1))),
    ("matmul_batched", *same(lambda a, b: a @ b), (r(2, 3, 4), r(2, 4, 5, seed=1))),
    ("matmul_broadcast", *same(lambda a, b: a @ b), (r(2, 3, 4), r(4, 5, seed=1))),
    ("matmul_broadcast_batch", *same(lambda a, b: a @ b), (r(1, 2, 3, 4), r(3, 1, 4, 2, seed=1))),
    ("matmul_vec_mat", *same(lambda a, b: a @ b), (r(4), r(4, 5, seed=1))),
    ("matmul_mat_vec", *same(lambda a, b: a @ b), (r(3, 4), r(4, seed=1))),
    ("matmul_vec_vec", *same(lambda a, b: a @ b), (r(4), r(4, seed=1))),
    ("matmul_batched_vec", *same(lambda a, b: a @ b), (r(2, 3, 4), r(4, seed=1))),
    ("matmul_vec_batched", *same(lambda a, b: a @ b), (r(4), r(2, 4, 5, seed=1))),
    ("linear", F.linear, lambda x, w, b: TF.linear(x, w.T, b), (r(2, 3, 4), r(4, 5, seed=1), r(5, seed=2))),
    ("linear_no_bias", F.linear, lambda x, w: TF.linear(x, w.T), (r(3, 4), r(4, 5, seed=1))),
    ("getitem_slices", *same(lambda a: a[1:, ::2]), (r(4, 5),)),
    ("getitem_negative_step", lambda a: a[::-1, -2], lambda a: torch.flip(a, (0,))[:, -2], (r(4, 5),)),
    ("getitem_ellipsis_none", *same(lambda a: a[..., None, 1:3]), (r(2, 3, 4),)),
    ("getitem_repeated_ints", *same(lambda a: a[[0, 2, 0, 0, 3]]), (r(4, 5),)),
    ("getitem_repeated_pairs", lambda a: a[np.array([0, 1, 0, 0]), np.array([2, 2, 2, 4])],
     lambda a: a[torch.tensor([0, 1, 0, 0]), torch.tensor([2, 2, 2, 4])], (r(4, 5),)),
    ("getitem_bool_mask", lambda a: a[MASK], lambda a: a[torch.tensor(MASK)], (r(3, 4),)),
    ("reshape_minus_one", *same(lambda a: a.reshape(-1, 6)), (r(2, 3, 4),)),
    ("transpose", *same(lambda a: a.transpose(0, 2)), (r(2, 3, 4),)),
    ("transpose_default", lambda a: a.transpose(), lambda a: a.transpose(-2, -1), (r(2, 3, 4),)),
    ("permute", *same(lambda a: a.permute(2, 0, 1)), (r(2, 3, 4),)),
    ("sum_all", *same(lambda a: a.sum()), (r(2, 3, 4),)),
    ("sum_tuple_keepdims", lambda a: a.sum(axis=(0, 2), keepdims=True), lambda a: a.sum(dim=(0, 2), keepdim=True),
     (r(2, 3, 4),)),
    ("sum_axis", lambda a: a.sum(axis=-1), lambda a: a.sum(dim=-1), (r(2, 3, 4),)),
    ("mean_all", *same(lambda a: a.mean()), (r(2, 3, 4),)),
    ("mean_tuple", lambda a: a.mean(axis=(0, -1)), lambda a: a.mean(dim=(0, -1)), (r(2, 3, 4),)),
    ("mean_keepdims", lambda a: a.mean(axis=1, keepdims=True), lambda a: a.mean(dim=1, keepdim=True), (r(2, 3, 4),)),
    ("max_all", lambda a: a.max(), torch.amax, (r(2, 3, 4),)),
    ("max_axis", lambda a: a.max(axis=1), lambda a: torch.amax(a, dim=1), (r(2, 3, 4),)),
    ("max_tuple_keepdims", lambda a: a.max(axis=(0, 2), keepdims=True), lambda a: torch.amax(a, dim=(0, 2), keepdim=True),
     (r(2, 3, 4),)),
    ("max_ties_share_gradient", lambda a: a.max(axis=1), lambda a: torch.amax(a, dim=1),
     (np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, 5.0]]),)),
    ("var_all", lambda a: a.var(), lambda a: a.var(correction=0), (r(2, 3, 4),)),
    ("var_axis", lambda a: a.var(axis=-1), lambda a: a.var(dim=-1, correction=0), (r(2, 3, 4),)),
    ("var_tuple_keepdims_ddof1", lambda a: a.var(axis=(0, 1), keepdims=True, ddof=1),
     lambda a: a.var(dim=(0, 1), keepdim=True, correction=1), (r(2, 3, 4),)),
    ("exp", *same(lambda a: a.exp()), (r(3, 4),)),
    ("log", *same(lambda a: a.log()), (r(3, 4, positive=True),)),
    ("sqrt", *same(lambda a: a.sqrt()), (r(3, 4, positive=True),)),
    ("abs", *same(lambda a: a.abs()), (np.array([[-2.0, 0.5, 0.0], [3.0, -0.1, 1.0]]),)),
    ("tanh", *same(lambda a: a.tanh()), (r(3, 4),)),
    ("sigmoid", *same(lambda a: a.sigmoid()), (r(3, 4) * 5,)),
    ("sigmoid_extreme", *same(lambda a: a.sigmoid()), (np.array([-800.0, -40.0, 0.0, 40.0, 800.0]),)),
    ("relu", *same(lambda a: a.relu()), (np.array([[-2.0, 0.5, 0.0], [3.0, -0.1, 1.0]]),)),
    ("gelu_tanh", lambda a: a.gelu("tanh"), lambda a: TF.gelu(a, approximate="tanh"), (np.linspace(-6, 6, 25),)),
    ("gelu_none", lambda a: a.gelu("none"), lambda a: TF.gelu(a, approximate="none"), (np.linspace(-7, 7, 29),)),
    ("softmax", *same(lambda a: a.softmax(dim=-1)), (r(2, 3, 4),)),
    ("softmax_dim0", *same(lambda a: a.softmax(dim=0)), (r(2, 3, 4),)),
    ("softmax_huge", *same(lambda a: a.softmax(dim=-1)), (r(2, 5) * 1e4,)),
    ("log_softmax", *same(lambda a: a.log_softmax(dim=1)), (r(2, 3, 4),)),
    ("log_softmax_huge", *same(lambda a: a.log_softmax(dim=-1)), (r(2, 5) * 1e4,)),
    ("clip", lambda a: a.clip(-0.5, 0.5), lambda a: a.clamp(-0.5, 0.5), (np.array([-1.0, -0.5, 0.1, 0.5, 2.0]),)),
    ("clip_one_sided", lambda a: a.clip(min_value=0.3), lambda a: a.clamp(min=0.3), (r(4, 5),)),
    ("masked_fill", lambda a, m: a.masked_fill(m, -7.0), lambda a, m: a.masked_fill(m, -7.0), (r(3, 4), MASK)),
    ("masked_fill_broadcast", lambda a, m: a.masked_fill(m, 0.0), lambda a, m: a.masked_fill(m, 0.0), (r(2, 3, 4), MASK[0])),
    ("where", lambda m, a, b: F.where(m, a, b), torch.where, (MASK[:, :1], r(1, 4), r(3, 1, seed=1))),
    ("concatenate", lambda a, b: F.concatenate([a, b, a], axis=-1), lambda a, b: torch.cat([a, b, a], dim=-1),
     (r(2, 1), r(2, 3, seed=1))),
    ("stack", lambda a, b: F.stack([a, b], axis=-1), lambda a, b: torch.stack([a, b], dim=-1), (r(2, 3), r(2, 3, seed=1))),
    ("layer_norm", F.layer_norm, lambda x, g, b: TF.layer_norm(x, (5,), g, b, eps=1e-5),
     (r(2, 3, 5), r(5, seed=1), r(5, seed=2))),
    ("cross_entropy_mean", lambda z, t: F.cross_entropy(z, t.data), TF.cross_entropy, (r(5, 4), IDS)),
    ("cross_entropy_sum", lambda z, t: F.cross_entropy(z, t.data, reduction="sum"),
     lambda z, t: TF.cross_entropy(z, t, reduction="sum"), (r(5, 4), IDS)),
    ("cross_entropy_none", lambda z, t: F.cross_entropy(z, t.data, reduction="none"),
     lambda z, t: TF.cross_entropy(z, t, reduction="none"), (r(5, 4), IDS)),
    ("cross_entropy_ignore_index", lambda z, t: F.cross_entropy(z, t.data, ignore_index=3),
     lambda z, t: TF.cross_entropy(z, t, ignore_index=3), (r(5, 4), IDS)),
    ("cross_entropy_loss_3d", lambda z, t: CrossEntropyLoss(ignore_index=0)(z, t),
     lambda z, t: TF.cross_entropy(z.permute(0, 2, 1), t, ignore_index=0), (r(2, 3, 4), np.array([[1, 0, 3], [2, 2, 0]]))),
    ("cross_entropy_huge_logits", lambda z, t: CrossEntropyLoss()(z, t), TF.cross_entropy, (r(4, 3) * 1e4, IDS[:4] % 3)),
    ("mse_loss", lambda p, y: MSELoss()(p, y), TF.mse_loss, (r(3, 4), r(3, 4, seed=1))),
    ("bce_loss", lambda p, y: BinaryCrossEntropyLoss()(p, y), TF.binary_cross_entropy,
     (np.random.default_rng(1).uniform(0.05, 0.95, (3, 4)), np.random.default_rng(2).uniform(0, 1, (3, 4)))),
    ("embedding", lambda w, i: F.embedding(w, i.data), lambda w, i: TF.embedding(i, w),
     (r(6, 3), np.array([[1, 4, 1], [0, 1, 4]]))),
    ("attention", F.scaled_dot_product_attention_fused, TF.scaled_dot_product_attention,
     (r(2, 4, 3), r(2, 5, 3, seed=1), r(2, 5, 2, seed=2))),
    ("attention_mask", lambda q, k, v, m: F.scaled_dot_product_attention_fused(q, k, v, allowed=m.data),
     lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m),
     (r(2, 2, 4, 3), r(2, 2, 4, 3, seed=1), r(2, 2, 4, 3, seed=2), CAUSAL)),
    ("attention_broadcast_kv", F.scaled_dot_product_attention_fused, torch_attention,
     (r(2, 3, 4, 3), r(1, 1, 5, 3, seed=1), r(2, 1, 5, 2, seed=2))),
    ("dropout_seeded_mask", lambda a: F.dropout(a, 0.4, np.random.default_rng(3)),
     lambda a: a * torch.tensor(DROP_MASK) / 0.6, (r(4, 5),)),
]


@pytest.mark.parametrize("name, tt_fn, torch_fn, arrays", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, tt_fn, torch_fn, arrays):
    assert_matches_torch(tt_fn, torch_fn, *arrays)


def test_case_ids_are_unique():
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names))


def test_cross_entropy_huge_logits_are_finite_and_exact():
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]])
    loss = CrossEntropyLoss()(Tensor(logits, dtype=np.float64), np.array([1, 2]))
    expected = TF.cross_entropy(torch.tensor(logits), torch.tensor([1, 2])).item()
    assert np.isfinite(loss.item()) and abs(loss.item() - expected) < 1e-9
    assert abs(loss.item() - (1e4 + math.log(2)) / 2) < 1e-9


def test_float32_ops_stay_close_to_torch():
    """The float32 path (the default dtype) agrees with torch's float32 to float32 precision."""
    x, w = r(4, 8).astype(np.float32), r(8, 3, seed=1).astype(np.float32)
    ours = F.linear(Tensor(x), Tensor(w, requires_grad=True)).gelu().softmax()
    ref = torch.softmax(TF.gelu(torch.tensor(x) @ torch.tensor(w), approximate="tanh"), dim=-1)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours.data, ref.numpy(), atol=1e-6, rtol=1e-5)


BAD_INPUTS = [
    ("matmul_shapes", lambda a, b: a @ b, lambda a, b: a @ b, (r(3, 4), r(5, 6)), ValueError, r"\(3, 4\) and \(5, 6\)"),
    ("linear_shapes", F.linear, lambda x, w: TF.linear(x, w.T), (r(2, 3), r(4, 5)), ValueError,
     r"input feature size 3 does not match weight shape \(4, 5\)"),
    ("reshape_size", lambda a: a.reshape(5, 5), lambda a: a.reshape(5, 5), (r(2, 3, 4),), ValueError,
     r"shape \(2, 3, 4\) \(24 elements\) into \(5, 5\)"),
    ("permute_not_a_permutation", lambda a: a.permute(0, 0, 1), lambda a: a.permute(0, 0, 1), (r(2, 3, 4),),
     ValueError, r"\(0, 0, 1\) is not a permutation"),
    ("cross_entropy_target_range", lambda z, t: CrossEntropyLoss()(z, t), TF.cross_entropy,
     (r(3, 4), np.array([0, 4, 1])), ValueError, r"target 4 is outside \[0, 4\)"),
    ("cross_entropy_negative_target", lambda z, t: CrossEntropyLoss()(z, t), TF.cross_entropy,
     (r(3, 4), np.array([0, -2, 1])), ValueError, r"target -2 is outside \[0, 4\)"),
]


@pytest.mark.parametrize("name, tt_fn, torch_fn, arrays, tt_error, match", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_both_reject_bad_input(name, tt_fn, torch_fn, arrays, tt_error, match):
    assert_both_raise(tt_fn, torch_fn, *arrays, tt_error=tt_error, torch_error=(RuntimeError, IndexError), match=match)


def test_both_reject_backward_of_non_scalar_without_gradient():
    a = Tensor(r(2, 3), requires_grad=True, dtype=np.float64)
    with pytest.raises(ValueError, match=r"non-scalar output of shape \(2, 3\)"):
        (a * 2).backward()
    with pytest.raises(RuntimeError):
        (torch.tensor(r(2, 3), requires_grad=True) * 2).backward()
