"""The test plan's layer 1: each transformer component's gradients against float64 finite differences.

Tiny components with random float64 parameters; every parameter and float input is checked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..nn.activations import GELU
from ..nn.attention import MultiHeadAttention, scaled_dot_product_attention
from ..nn.layers import Linear, Module
from ..nn.losses import CrossEntropyLoss
from ..core.random import manual_seed
from ..core.tensor import Tensor
from ..nn.transformer import GPT, MLP, LayerNorm, TransformerBlock
from ..testing import numerical_grad

EPS = 1e-6  # central-difference step
RTOL = 1e-5  # float64 central differences are accurate to about 1e-9 relative: a wrong backward fails
ATOL = 1e-8


@dataclass
class GradientCheck:
    """One component's check: passed, the worst relative error, and where it was."""

    name: str
    passed: bool
    max_error: float  # max |autograd - numeric| / max(1, max |numeric|), over all checked tensors
    worst: str  # the tensor with the largest error
    tensors: int  # parameters and inputs checked
    detail: str = ""  # why it failed


def _float64(module: Module, seed: int, scale: float = 0.5) -> Module:
    """Random N(0, scale) float64 parameters (gamma around 1): no gradient is trivially tiny."""
    rng = np.random.default_rng(seed)
    for name, p in module.named_parameters():
        noise = rng.normal(0.0, scale, p.shape)
        p.data = 1.0 + noise if name.endswith("gamma") else noise
        p.grad = None
    return module


def _input(shape, seed: int) -> Tensor:
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True, dtype=np.float64)


def _weighted(fn, seed: int):
    """fn() -> sum(fn() * w) for a fixed random w, so every output element matters."""
    def loss():
        out = fn()
        w = np.random.default_rng(seed).standard_normal(out.shape)
        return (out * Tensor(w, dtype=np.float64)).sum()
    return loss


def check_component(name: str, loss_fn, named_tensors: list) -> GradientCheck:
    """Backprop `loss_fn()` once, then compare every tensor's gradient with central differences."""
    try:
        for _, t in named_tensors:
            t.grad = None
        loss_fn().backward()
        worst_name, worst_err, problems = "", 0.0, []

        def scalar() -> float:
            return float(loss_fn().data)

        for tname, t in named_tensors:
            if t.grad is None:
                problems.append(f"{tname} received no gradient")
                continue
            analytic = np.asarray(t.grad, dtype=np.float64)
            numeric = numerical_grad(scalar, t.data, EPS)
            scale = max(1.0, float(np.abs(numeric).max()))
            err = float(np.abs(analytic - numeric).max()) / scale
            if err > worst_err or not worst_name:
                worst_name, worst_err = tname, err
            if not np.all(np.isfinite(analytic)) or not np.allclose(analytic, numeric, rtol=RTOL, atol=ATOL * scale):
                problems.append(f"{tname} differs from finite differences (relative error {err:.2g})")
        return GradientCheck(name, not problems, worst_err, worst_name, len(named_tensors), "; ".join(problems))
    except Exception as exc:  # a crash in backward is a failed check, not a crashed verifier
        return GradientCheck(name, False, float("inf"), "", len(named_tensors), f"{type(exc).__name__}: {exc}")


def _module_case(name: str, module: Module, x: Tensor, seed: int, **call):
    module = _float64(module, seed)
    tensors = list(module.named_parameters()) + [("input", x)]
    return name, _weighted(lambda: module(x, **call), seed + 100), tensors


def component_cases(seed: int = 0) -> list:
    """(name, loss_fn, [(tensor name, tensor)]) for each component, at a tiny size."""
    manual_seed(seed)  # construction draws initial weights; they are replaced, but keep it repeatable
    b, t, d, heads = 2, 3, 4, 2
    cases = [
        _module_case("Linear", Linear(3, 4), _input((2, 3), seed), seed),
        _module_case("LayerNorm", LayerNorm(d), _input((b, t, d), seed + 1), seed + 1),
    ]
    x = _input((2, 5), seed + 2)
    gelu = GELU()
    cases.append(("GELU", _weighted(lambda: gelu(x), seed + 102), [("input", x)]))
    q, k, v = _input((b, t, d), seed + 3), _input((b, t, d), seed + 4), _input((b, t, d), seed + 5)
    cases.append(("attention", _weighted(lambda: scaled_dot_product_attention(q, k, v, causal=True)[0], seed + 103),
                  [("Q", q), ("K", k), ("V", v)]))
    cases.append(_module_case("MultiHeadAttention", MultiHeadAttention(d, heads), _input((b, t, d), seed + 6),
                              seed + 6, causal=True))
    cases.append(_module_case("MLP", MLP(d, 2 * d), _input((b, t, d), seed + 7), seed + 7))
    cases.append(_module_case("TransformerBlock", TransformerBlock(d, heads, mlp_ratio=2), _input((b, t, d), seed + 8),
                              seed + 8, causal=True))
    gpt = _float64(GPT(vocab_size=5, embed_dim=d, num_layers=1, num_heads=heads, max_seq_len=4, mlp_ratio=2), seed + 9)
    gpt.lm_head.weight.data *= 4.0  # sharper logits: a non-trivial loss surface
    ids = np.random.default_rng(seed + 9).integers(0, 5, size=(b, t + 1))
    loss = CrossEntropyLoss()
    cases.append(("GPT", lambda: loss(gpt(ids[:, :-1]), ids[:, 1:]), list(gpt.named_parameters())))
    return cases


def run_gradient_checks(seed: int = 0) -> tuple[list, float]:
    """([GradientCheck for each component], seconds)."""
    start = time.perf_counter()
    checks = [check_component(name, fn, tensors) for name, fn, tensors in component_cases(seed)]
    return checks, time.perf_counter() - start


__all__ = ["GradientCheck", "check_component", "component_cases", "run_gradient_checks"]
