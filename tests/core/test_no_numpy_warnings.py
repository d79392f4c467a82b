"""No numpy warning reaches a user for correct work: attention with large scores, training at a high learning rate."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch import Tensor
from tinytorch.nn.attention import MultiHeadAttention, scaled_dot_product_attention

from faults_helpers import REPO, env, text_file


def reference_attention(q, k, v, causal):
    """softmax(q k^T) v in float64 with the max shift (no overflow possible)."""
    s = q.astype(np.float64) @ np.swapaxes(k, -1, -2).astype(np.float64)
    if causal:
        s = np.where(np.tril(np.ones(s.shape[-2:], bool)), s, -np.inf)
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return w @ v.astype(np.float64)


@pytest.mark.parametrize("t", [5, 40, 130])  # dense path and the blockwise kernel (several blocks)
@pytest.mark.parametrize("spread", [30.0, 80.0, 300.0])  # scores whose key-0 shift overflows float32's exp or sums
@pytest.mark.parametrize("causal", [True, False])
def test_attention_with_large_scores_is_right_and_silent(t, spread, causal):
    rng = np.random.default_rng(int(spread) + t)
    q, k, v = (rng.standard_normal((2, 2, t, 8)).astype(np.float32) for _ in range(3))
    k[..., 0, :] = -k[..., 0, :].clip(0.1)  # key 0 scores far below the others
    q *= np.float32(np.sqrt(spread))
    k *= np.float32(np.sqrt(spread))
    qt, kt, vt = (Tensor(a, requires_grad=True) for a in (q, k, v))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, _ = scaled_dot_product_attention(qt, kt, vt, causal=causal)
        out.sum().backward()
    expected = reference_attention(q / np.sqrt(8), k, v, causal)
    np.testing.assert_allclose(out.data, expected, rtol=2e-3, atol=2e-3)
    assert all(np.isfinite(g.grad).all() for g in (qt, kt, vt))


@pytest.mark.parametrize("scale", [1.0, 50.0, 400.0])
def test_multi_head_attention_with_large_weights_is_silent(scale):
    tinytorch.manual_seed(0)
    layer = MultiHeadAttention(16, 2)
    for p in (layer.q_proj.weight, layer.k_proj.weight):
        p.data = p.data * np.float32(scale)
    x = Tensor(np.random.default_rng(1).standard_normal((2, 70, 16)).astype(np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = layer(x, causal=True)
        out.sum().backward()
    assert np.isfinite(out.data).all() and np.isfinite(x.grad).all()


@pytest.mark.parametrize("learning_rate", ["0.5", "0.9"])
def test_training_at_a_high_learning_rate_prints_no_numpy_warning(tmp_path, learning_rate):
    data = text_file(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", "tinytorch.cli", "train", "--data", data,
         "--learning-rate", learning_rate, "--max-iters", "60", "--out", str(tmp_path / "run")],
        cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert "Warning" not in output and ".py:" not in output, output[-2000:]
    assert proc.returncode == 0, output[-2000:]
