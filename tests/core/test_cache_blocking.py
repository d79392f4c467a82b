"""The cache-blocked paths of GELU, LayerNorm and Adam (arrays larger than one block) against float64
references: central differences for the gradients, the closed form for Adam, and the one-block path.

The gradient checks use that GELU is elementwise and LayerNorm works row by row: perturbing every
element (GELU) or one column of every row (LayerNorm) at once gives a whole slice of the numerical
gradient from two forward passes, so arrays of tens of thousands of elements stay cheap to check.
"""

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor
from tinytorch.core.ops.blocks import BLOCK_ELEMENTS, flat_blocks, row_blocks
from tinytorch.core.ops.elementwise import GELU
from tinytorch.core.ops.normalization import LayerNorm

EPS = 1e-6


def _run(fn_cls, arrays, grad, **options):
    """forward then backward of a Function on raw arrays -> (output, input gradients)."""
    fn = fn_cls()
    fn.needs_input_grad = [True] * len(arrays)
    out = fn.forward(*arrays, **options)
    grads = fn.backward(grad)
    return out, grads if isinstance(grads, tuple) else (grads,)


def test_blocks_cover_every_element_once():
    for size in (0, 1, BLOCK_ELEMENTS - 1, BLOCK_ELEMENTS, BLOCK_ELEMENTS + 1, 3 * BLOCK_ELEMENTS + 17):
        covered = np.zeros(size, dtype=int)
        for s in flat_blocks(size):
            covered[s] += 1
        assert (covered == 1).all()
    for rows, cols in ((1, 10), (7, BLOCK_ELEMENTS * 2), (1000, 129), (BLOCK_ELEMENTS + 3, 1)):
        covered = np.zeros(rows, dtype=int)
        for s in row_blocks(rows, cols):
            covered[s] += 1
        assert (covered == 1).all()


@pytest.mark.parametrize("shape", [(3, 101, 130), (2 * BLOCK_ELEMENTS + 5,)])
def test_blocked_gelu_matches_central_differences(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3
    assert x.size > BLOCK_ELEMENTS
    w = rng.standard_normal(shape)
    out, (grad,) = _run(GELU, [x], w)
    u = np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)
    np.testing.assert_allclose(out, 0.5 * x * (1 + np.tanh(u)), rtol=1e-13, atol=1e-13)
    plus, minus = GELU().forward(x + EPS), GELU().forward(x - EPS)
    np.testing.assert_allclose(grad, w * (plus - minus) / (2 * EPS), rtol=1e-6, atol=1e-8)


def test_blocked_gelu_equals_the_one_block_path_on_float32():
    x = np.random.default_rng(1).standard_normal((4, 100, 128)).astype(np.float32)  # 51,200 elements
    w = np.random.default_rng(2).standard_normal(x.shape).astype(np.float32)
    big_out, (big_grad,) = _run(GELU, [x], w)
    rows = [_run(GELU, [x[i]], w[i]) for i in range(4)]  # 12,800 elements each: one block
    np.testing.assert_array_equal(big_out, np.stack([r[0] for r in rows]))
    np.testing.assert_array_equal(big_grad, np.stack([r[1][0] for r in rows]))
    assert big_out.dtype == big_grad.dtype == np.float32


@pytest.mark.parametrize("contiguous", [True, False])
def test_blocked_layer_norm_matches_central_differences(contiguous):
    rng = np.random.default_rng(3)
    c = 40
    x = rng.standard_normal((2, 500, c)) * 2 + 1  # 40,000 elements: more than one block
    if not contiguous:
        x = np.ascontiguousarray(x.transpose(1, 0, 2)).transpose(1, 0, 2)
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    w = rng.standard_normal(x.shape)
    out, (gx, ggamma, gbeta) = _run(LayerNorm, [x, gamma, beta], w, eps=1e-5)
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    x_hat = (x - mean) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(out, x_hat * gamma + beta, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ggamma, (w * x_hat).reshape(-1, c).sum(0), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gbeta, w.reshape(-1, c).sum(0), rtol=1e-10, atol=1e-10)

    def row_losses(xp):  # (2, 500): each row's loss depends on that row only
        return (LayerNorm().forward(xp, gamma, beta, eps=1e-5) * w).sum(-1)

    numerical = np.empty_like(x)
    for j in range(c):
        step = np.zeros(c)
        step[j] = EPS
        numerical[..., j] = (row_losses(x + step) - row_losses(x - step)) / (2 * EPS)
    np.testing.assert_allclose(gx, numerical, rtol=1e-5, atol=1e-7)


def test_blocked_adam_step_equals_the_closed_form():
    rng = np.random.default_rng(4)
    shapes = [(300, 128), (128,), (64, 90)]  # 44,288 parameters: more than one block
    params = [Tensor(rng.standard_normal(s), requires_grad=True, dtype=np.float64) for s in shapes]
    start = [p.data.copy() for p in params]
    opt = tinytorch.Adam(params, lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(3)]
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = g.copy()
        opt.step()
    for i, p0 in enumerate(start):
        theta, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
        for t, step_grads in enumerate(grads, start=1):
            g = step_grads[i] + 0.1 * theta
            m = 0.8 * m + 0.2 * g
            v = 0.95 * v + 0.05 * g * g
            theta = theta - 0.01 * (m / (1 - 0.8**t)) / (np.sqrt(v / (1 - 0.95**t)) + 1e-6)
        np.testing.assert_allclose(params[i].data, theta, rtol=1e-12, atol=1e-12)
