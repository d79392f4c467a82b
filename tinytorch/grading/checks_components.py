"""Layer 1.2: each component's output against the float64 reference fed the same weights, and its
gradients (input and every parameter) against float64 central differences of that reference."""

from __future__ import annotations

import numpy as np

from . import reference as ref
from .outcome import judged, rel_error

VALUE_TOL = 2e-3
GRAD_TOL = 5e-3
B, T, C, H = 2, 5, 8, 2  # batch, tokens, width, heads (head_dim 4)


def random_params(names_shapes, rng):
    """Weights large enough that a wrong scale or a missing term shows (not the tiny 0.02 init)."""
    out = {}
    for name, shape in names_shapes.items():
        if name.endswith("gamma"):
            out[name] = 1.0 + 0.2 * rng.normal(size=shape)
        elif name.endswith(("beta", "bias")):
            out[name] = 0.2 * rng.normal(size=shape)
        else:
            out[name] = rng.normal(scale=0.4, size=shape)
    return out


def _components(ctx):
    """name -> (build(adapter), reference(params, x), input kind ("x", "mask" or "ids"), likely cause)."""
    gv = ctx.gelu_variant
    allowed = ref.causal(T)
    return {
        "component.linear": (lambda a: a.linear(C, 6), lambda p, x: ref.linear(p, x), "x",
                             "y = x @ W + b: dW = x^T g summed over every leading axis, db = g summed the same way"),
        "component.layer_norm": (lambda a: a.layer_norm(C), lambda p, x: ref.layer_norm(p, x), "x",
                                 "LayerNorm is (x - mean) / sqrt(var + eps) * gamma + beta, with the biased variance "
                                 "over the last axis; its gradient flows through the mean and the variance too "
                                 "(a std treated as a constant gives a wrong gradient)"),
        "component.mlp": (lambda a: a.mlp(C, 4 * C), lambda p, x: ref.mlp(p, x, gelu_variant=gv), "x",
                          "MLP is linear2(GELU(linear1(x))); GELU's forward and backward must use the same formula"),
        "component.attention": (lambda a: a.attention(C, H), lambda p, x: ref.attention(p, x, H), "x",
                                "attention is softmax(Q K^T / sqrt(head_dim)) V per head, softmax over the keys; the "
                                "gradient must reach Q and K through the softmax (else attention stays uniform)"),
        "component.masked_attention": (lambda a: a.attention(C, H), lambda p, x: ref.attention(p, x, H, allowed), "mask",
                                       "Check padding/masking: a mask's 1/True may attend, 0/False is blocked "
                                       "(weight exactly 0, no gradient through blocked scores)"),
        "component.block": (lambda a: a.block(C, H), lambda p, x: ref.block(p, x, H, allowed, gelu_variant=gv), "mask",
                            "pre-norm block: x + attention(ln1(x)), then + mlp(ln2(.)); both residual paths "
                            "carry the gradient"),
        "component.embedding": (lambda a: a.embedding(7, C), lambda p, ids: p["weight"][ids], "ids",
                                "an id that appears several times must receive the sum of its gradients (np.add.at), "
                                "and the embedding must stay in the graph (not detached)"),
    }


def _run_component(ctx, name):
    a = ctx.adapter
    rng = np.random.default_rng(ctx.seed + 7)
    build, reference, kind, cause = _components(ctx)[name]
    module = build(a)
    shapes = {k: v.shape for k, v in a.get_params(module).items()}
    params = random_params(shapes, rng)
    a.set_params(module, params)
    if kind == "ids":
        x = np.array([[0, 3, 3, 6, 3], [1, 1, 0, 2, 5]])
        out = a.call(module, x)
    else:
        x = rng.normal(size=(B, T, C))
        xt = a.tensor(x.copy(), requires_grad=True)
        out = a.call(module, xt, ref.causal(T) if kind == "mask" else None)
    want = reference(params, x)
    value_err = rel_error(a.array(out), want)
    g = rng.normal(size=want.shape)
    a.backward(out, g)
    work = {k: v.copy() for k, v in params.items()}
    if kind != "ids":
        work["input"] = x.copy()
    f = lambda: float(np.sum(g * reference({k: v for k, v in work.items() if k != "input"},  # noqa: E731
                                           work.get("input", x))))
    numeric = ref.central_differences(f, work, max_entries=16, seed=ctx.seed)
    tensors = dict(a.parameters(module))
    if kind != "ids":
        tensors["input"] = xt
    grad_errs = {}
    floor = 1e-3 * max(float(np.max(np.abs(num), initial=0.0)) for _, num in numeric.values())  # a true 0 (key bias)
    for k, (idx, num) in numeric.items():
        got = a.grad(tensors[k])
        if got is None:
            grad_errs[k] = float("inf") if np.max(np.abs(num)) > 1e-9 else 0.0
            continue
        got = np.asarray(got, dtype=np.float64)
        grad_errs[k] = float("inf") if got.size != work[k].size else rel_error(got.reshape(-1)[idx], num, floor)
    return value_err, grad_errs, cause


def make_component_check(name):
    def check(ctx):
        value_err, grad_errs, cause = _run_component(ctx, name)
        worst_name = max(grad_errs, key=lambda k: grad_errs[k] if grad_errs[k] == grad_errs[k] else np.inf)
        worst = grad_errs[worst_name]
        bad_grads = [k for k, e in grad_errs.items() if not e <= GRAD_TOL]
        ok = value_err <= VALUE_TOL and not bad_grads
        if not value_err <= VALUE_TOL:
            measured = f"output differs from the float64 reference with the same weights by {value_err:.2g} (relative)"
        elif bad_grads:
            shown = ", ".join(f"{k} ({'none' if grad_errs[k] == np.inf else f'{grad_errs[k]:.2g}'})" for k in bad_grads[:4])
            measured = f"gradients wrong for {len(bad_grads)}/{len(grad_errs)}: {shown}"
        else:
            measured = (f"output within {value_err:.1e}, {len(grad_errs)} gradients within {worst:.1e} "
                        f"(worst: {worst_name})")
        return judged(ok, measured, f"output within {VALUE_TOL:g}, gradients within {GRAD_TOL:g} of float64", cause)
    return check


COMPONENT_NAMES = ("component.linear", "component.layer_norm", "component.mlp", "component.attention",
                   "component.masked_attention", "component.block", "component.embedding")
COMPONENT_CHECKS = {name: make_component_check(name) for name in COMPONENT_NAMES}
