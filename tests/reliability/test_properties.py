"""Property-based tests: broadcasting gradients, tokenizer round trips, stable cross-entropy and softmax."""

import numpy as np
from hypothesis import assume, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tinytorch.core.functions as F
from tinytorch import Tensor
from tinytorch.text.bpe import BPETokenizer
from tinytorch.nn.losses import CrossEntropyLoss
from tinytorch.text.tokenization import CharTokenizer
from tinytorch.testing import gradcheck

SETTINGS = settings(max_examples=50, deadline=None)
EPS32 = float(np.finfo(np.float32).eps)


def reduce_to(grad, shape):
    """Sum a broadcast gradient back to `shape`, written independently of the library's unbroadcast."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast together: each drops leading dims and/or squeezes some dims to 1."""
    full = draw(st.lists(st.integers(1, 4), min_size=0, max_size=4))

    def variant():
        keep = draw(st.integers(0, len(full)))
        tail = full[len(full) - keep:]
        return tuple(1 if draw(st.booleans()) else n for n in tail)

    return variant(), variant()


def values(rng, shape, away_from_zero=False):
    x = rng.uniform(-2, 2, shape)
    return np.where(np.abs(x) < 0.5, np.sign(x) * 0.5 + x, x) if away_from_zero else x


EXPECTED = {  # op -> (d out/d a, d out/d b) on broadcast float64 arrays
    "add": (lambda a, b: np.ones_like(a * b), lambda a, b: np.ones_like(a * b)),
    "sub": (lambda a, b: np.ones_like(a * b), lambda a, b: -np.ones_like(a * b)),
    "mul": (lambda a, b: b * np.ones_like(a), lambda a, b: a * np.ones_like(b)),
    "div": (lambda a, b: 1.0 / b * np.ones_like(a), lambda a, b: -a / (b * b)),
}
OPS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b}


@SETTINGS
@given(shapes=broadcast_pair(), op=st.sampled_from(sorted(OPS)), seed=st.integers(0, 2 ** 31))
def test_broadcast_gradients_match_analytic_reduction(shapes, op, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes
    a_np, b_np = values(rng, sa), values(rng, sb, away_from_zero=True)
    out_shape = np.broadcast_shapes(sa, sb)
    w = rng.normal(size=out_shape)
    a = Tensor(a_np, requires_grad=True, dtype=np.float64)
    b = Tensor(b_np, requires_grad=True, dtype=np.float64)
    (OPS[op](a, b) * Tensor(w, dtype=np.float64)).sum().backward()
    da, db = EXPECTED[op]
    ab, bb = np.broadcast_to(a_np, out_shape), np.broadcast_to(b_np, out_shape)
    assert a.grad.shape == sa and b.grad.shape == sb
    np.testing.assert_allclose(a.grad, reduce_to(w * da(ab, bb), sa), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad, reduce_to(w * db(ab, bb), sb), rtol=1e-12, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(shapes=broadcast_pair(), op=st.sampled_from(sorted(OPS)), seed=st.integers(0, 2 ** 31))
def test_broadcast_gradients_match_finite_differences(shapes, op, seed):
    rng = np.random.default_rng(seed)
    a = Tensor(values(rng, shapes[0]), requires_grad=True, dtype=np.float64)
    b = Tensor(values(rng, shapes[1], away_from_zero=True), requires_grad=True, dtype=np.float64)
    assert gradcheck(OPS[op], a, b, name=op)


def test_sum_of_product_gradient_is_unbroadcast_other_operand():
    a = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, dtype=np.float64)
    b = Tensor(np.array([[1.0], [10.0]]), requires_grad=True, dtype=np.float64)
    (a * b).sum().backward()
    assert np.array_equal(a.grad, np.array([[1.0, 1, 1], [10, 10, 10]]))
    assert np.array_equal(b.grad, np.array([[3.0], [12.0]]))


# ----- tokenizers ----------------------------------------------------------------------------------
@SETTINGS
@given(text=st.text(min_size=1, max_size=200))
def test_char_tokenizer_round_trips_the_text_it_was_built_on(text):
    tok = CharTokenizer().build_vocab(text)
    ids = tok.encode(text)
    assert len(ids) == len(text) and 0 not in ids
    assert tok.decode(ids) == text
    assert CharTokenizer.from_dict(tok.to_dict()).decode(ids) == text


@SETTINGS
@given(corpus=st.text(min_size=1, max_size=120), other=st.text(max_size=120))
def test_bpe_round_trips_arbitrary_unicode(corpus, other):
    tok = BPETokenizer(300).train(corpus, min_frequency=1)
    for text in (corpus, other, corpus + other):
        ids = tok.encode(text)
        assert all(0 <= i < tok.vocab_size for i in ids)
        assert tok.decode(ids) == text
    assert len(tok.encode(corpus)) <= len(corpus.encode("utf-8"))  # merges only ever shorten


# ----- numerically stable losses ---------------------------------------------------------------------
def cross_entropy_reference(logits, targets):
    x = logits.astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(x - m).sum(axis=1))
    return float(np.mean(lse - x[np.arange(len(x)), targets]))


@SETTINGS
@given(n=st.integers(1, 6), c=st.integers(2, 12), scale=st.floats(1.0, 1e4), seed=st.integers(0, 2 ** 31))
def test_cross_entropy_matches_float64_for_huge_logits(n, c, scale, seed):
    rng = np.random.default_rng(seed)
    logits = (rng.uniform(-1, 1, (n, c)) * scale).astype(np.float32)
    targets = rng.integers(0, c, n)
    x = Tensor(logits, requires_grad=True)
    loss = CrossEntropyLoss()(x, targets)
    loss.backward()
    value = float(loss.item())
    assert np.isfinite(value) and np.isfinite(x.grad).all()
    # float32 rounding of logits near `scale` is worth a few ulps of `scale`.
    np.testing.assert_allclose(value, cross_entropy_reference(logits, targets), rtol=1e-5, atol=8 * EPS32 * scale)
    np.testing.assert_allclose(x.grad.sum(axis=1), 0.0, atol=1e-6)  # softmax minus one-hot, per row


finite32 = st.floats(allow_nan=False, allow_infinity=False, width=32)  # the whole float32 range


@SETTINGS
@given(x=hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=8), elements=finite32))
def test_softmax_rows_are_probabilities_for_extreme_inputs(x):
    with np.errstate(over="ignore"):  # x - max may overflow to -inf in float32: exp gives 0, as it should
        for y in (Tensor(x).softmax(-1).data, F.softmax(Tensor(x, requires_grad=True), 0).data):
            assert np.isfinite(y).all() and (y >= 0).all() and (y <= 1).all()
        np.testing.assert_allclose(Tensor(x).softmax(-1).data.sum(axis=-1), 1.0, rtol=1e-5)
        np.testing.assert_allclose(F.softmax(Tensor(x), 0).data.sum(axis=0), 1.0, rtol=1e-5)


@SETTINGS
@given(row=st.lists(finite32, min_size=2, max_size=10), target=st.integers(0, 9))
def test_cross_entropy_finite_on_any_finite_float32_logits(row, target):
    assume(target < len(row))
    logits = np.array([row], dtype=np.float32)
    spread = float(logits.max()) - float(logits.min())
    assume(np.isfinite(np.float32(spread)))  # beyond that, a float32 loss itself would be inf
    x = Tensor(logits, requires_grad=True)
    loss = CrossEntropyLoss()(x, np.array([target]))
    loss.backward()
    assert np.isfinite(loss.item()) and loss.item() >= 0 and np.isfinite(x.grad).all()
