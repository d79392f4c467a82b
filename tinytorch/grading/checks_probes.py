"""Probes of a model's structure: causality, use of position, and the cost of backward."""

from __future__ import annotations

import sys
import time

import numpy as np

from .checks_components import random_params
from .outcome import judged

PROBE_SIZE = dict(vocab_size=12, embed_dim=16, num_layers=2, num_heads=2, max_seq_len=16)


def _probe_model(ctx):
    a, rng = ctx.adapter, np.random.default_rng(ctx.seed + 13)
    model = a.gpt(**PROBE_SIZE)
    a.train_mode(model, False)
    a.set_params(model, random_params({k: v.shape for k, v in a.get_params(model).items()}, rng))
    return model, rng


def _logits(ctx, model, ids):
    with ctx.adapter.no_grad():
        return np.asarray(ctx.adapter.array(ctx.adapter.call(model, ids)), dtype=np.float64)


def check_causality(ctx):
    """Changing token j must leave the logits of every earlier position unchanged."""
    model, rng = _probe_model(ctx)
    ids = rng.integers(0, PROBE_SIZE["vocab_size"], size=(1, 12))
    base = _logits(ctx, model, ids)
    if not np.all(np.isfinite(base)):
        bad = int(np.argmax(~np.all(np.isfinite(base[0]), axis=-1)))
        return judged(False, f"logits are NaN/Inf from position {bad} on", "finite logits, earlier positions unchanged",
                      "Check padding/masking: a row with every key blocked (an inverted mask blocks the diagonal) "
                      "gives a softmax of 0/0")
    scale = max(1e-6, float(np.max(np.abs(base))))
    for j in (9, 5, 1):
        changed = ids.copy()
        changed[0, j] = (changed[0, j] + 1) % PROBE_SIZE["vocab_size"]
        diff = np.max(np.abs(_logits(ctx, model, changed) - base), axis=-1)[0] / scale  # per position
        leaked = [i for i in range(j) if diff[i] > 1e-4]
        if leaked:
            i = leaked[0]
            return judged(False, f"position {i}'s output changed (by {diff[i]:.2g}) when token {j} changed",
                          "positions before the changed token unchanged (<= 1e-4)",
                          "Check padding/masking: the mask lets a position see the future (mask ignored or "
                          "inverted; 1/True must mean 'may attend')")
    return judged(True, "no earlier position changed when a later token changed (tokens 9, 5, 1)",
                  "positions before the changed token unchanged (<= 1e-4)", "")


def check_position(ctx):
    """A repeated token must give different outputs at different positions (positions are used)."""
    model, _ = _probe_model(ctx)
    logits = _logits(ctx, model, np.full((1, 10), 3))[0]  # (T, V)
    spread = float(np.max(np.abs(logits[1:] - logits[0]))) / max(1e-6, float(np.max(np.abs(logits))))
    ok = spread > 1e-3
    return judged(ok, f"a token repeated 10 times: logits differ across positions by {spread:.2g} (relative)",
                  "> 1e-3", "Check Architecture: all 10 positions give the same logits: position embeddings are "
                  "not added to the token embeddings")


def _chain_seconds(ctx, depth: int):
    """(seconds for backward, gradient) through x -> x*0.5 + x*0.5 repeated `depth` times (2^depth paths)."""
    a = ctx.adapter
    x = a.tensor(np.ones(4), requires_grad=True)
    half = a.tensor(np.full(4, 0.5))
    y = x
    for _ in range(depth):
        y = a.op("add", a.op("mul", y, half), a.op("mul", y, half))
    loss = a.op("sum", y)
    start = time.perf_counter()
    a.backward(loss)
    return time.perf_counter() - start, a.grad(x)


def check_backward_cost(ctx):
    """Backward through a 400-deep chain whose every node is used twice: linear in nodes, not in paths."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # Python's default: an implementation must not depend on a raised limit
    try:
        small = min(_chain_seconds(ctx, 100)[0] for _ in range(3))
        times, grads = zip(*(_chain_seconds(ctx, 400) for _ in range(3)))
    except RecursionError:
        return judged(False, "RecursionError in backward on a 400-deep chain", "no recursion limit",
                      "backward must walk the graph iteratively (an explicit stack, reverse topological order)")
    finally:
        sys.setrecursionlimit(limit)
    big, grad = min(times), grads[0]
    grad_ok = grad is not None and np.allclose(np.asarray(grad, dtype=np.float64), 1.0, rtol=1e-4)
    ok = grad_ok and big <= 8 * small + 0.05
    return judged(ok, f"depth 400: {big * 1000:.1f} ms, depth 100: {small * 1000:.1f} ms (ratio {big / max(small, 1e-9):.1f}); "
                  f"gradient {'1 (right)' if grad_ok else np.asarray(grad).reshape(-1)[:2]}",
                  "depth 400 <= 8x depth 100 + 50 ms, gradient 1",
                  "backward must visit each node once in reverse topological order, adding up gradients from "
                  "every use (visiting once per path is exponential)")
