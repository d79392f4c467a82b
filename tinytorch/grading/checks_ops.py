"""Layer 1.1: each operation's values against numpy and its gradient against float64 central differences."""

from __future__ import annotations

import numpy as np

from . import reference as ref
from .outcome import judged, rel_error

TOL = 2e-3  # relative; float32 implementations land near 1e-6


def _np_ops(gelu_variant):
    return {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b, "matmul": lambda a, b: a @ b, "neg": lambda a: -a,
        "pow": lambda a, exponent: a ** exponent, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
        "tanh": np.tanh, "sigmoid": lambda a: 1 / (1 + np.exp(-a)), "relu": lambda a: np.maximum(a, 0),
        "gelu": lambda a: ref.gelu(a, gelu_variant),
        "sum": lambda a, axis=None, keepdims=False: a.sum(axis=axis, keepdims=keepdims),
        "mean": lambda a, axis=None, keepdims=False: a.mean(axis=axis, keepdims=keepdims),
        "max": lambda a, axis=None, keepdims=False: a.max(axis=axis, keepdims=keepdims),
        "reshape": lambda a, shape: a.reshape(shape),
        "transpose": lambda a, dim0, dim1: np.swapaxes(a, dim0, dim1),
        "getitem": lambda a, index: a[index],
        "softmax": lambda a, axis=-1: ref.softmax(a, axis),
        "log_softmax": lambda a, axis=-1: ref.log_softmax(a, axis),
    }


def _cases(rng):
    """(label, op, input arrays, kwargs, likely cause) per family."""
    r = lambda *s: rng.normal(size=s)  # noqa: E731
    pos = lambda *s: rng.uniform(0.5, 2.0, size=s)  # noqa: E731
    bcast = "a broadcast input's gradient must be summed back to its own shape"
    return {
        "ops.elementwise": [
            ("add (3,4)+(4,)", "add", [r(3, 4), r(4)], {}, bcast),
            ("sub (2,3,4)-(3,1)", "sub", [r(2, 3, 4), r(3, 1)], {}, bcast),
            ("mul (3,4)*(1,4)", "mul", [r(3, 4), r(1, 4)], {}, bcast + "; d(a*b)/da is b"),
            ("div (3,4)/(4,)", "div", [r(3, 4), pos(4)], {}, bcast + "; d(a/b)/db is -a/b^2"),
            ("neg", "neg", [r(3, 4)], {}, "d(-a)/da is -1"),
            ("pow 2", "pow", [r(3, 4)], {"exponent": 2}, "d(a^n)/da is n a^(n-1)"),
        ],
        "ops.unary": [
            ("exp", "exp", [r(3, 4)], {}, "d exp(a)/da is exp(a)"),
            ("log", "log", [pos(3, 4)], {}, "d log(a)/da is 1/a"),
            ("sqrt", "sqrt", [pos(3, 4)], {}, "d sqrt(a)/da is 1/(2 sqrt(a))"),
            ("tanh", "tanh", [r(3, 4)], {}, "d tanh/da is 1 - tanh^2"),
            ("sigmoid", "sigmoid", [r(3, 4)], {}, "d sigmoid/da is s(1-s)"),
            ("relu", "relu", [r(3, 4) + 0.05], {}, "relu passes the gradient where a > 0 only"),
            ("gelu", "gelu", [rng.uniform(-3, 3, size=(4, 6))], {}, "GELU's forward and backward must use the same formula "
             "(exact erf or the tanh approximation; x*sigmoid(1.702x) is neither)"),
        ],
        "ops.reduce_shape": [
            ("matmul (2,3,4)@(4,5)", "matmul", [r(2, 3, 4), r(4, 5)], {}, "a batched matmul's gradient for a shared "
             "right operand is summed over the batch: dB = sum_b A_b^T G_b"),
            ("sum axis=-1 keepdims", "sum", [r(2, 3, 4)], {"axis": -1, "keepdims": True}, "sum's gradient broadcasts "
             "the upstream gradient back over the reduced axis"),
            ("mean axis=1", "mean", [r(2, 3, 4)], {"axis": 1}, "mean's gradient is the upstream gradient / n"),
            ("max axis=-1", "max", [r(3, 5)], {"axis": -1}, "max's gradient goes to the arg-max only"),
            ("reshape", "reshape", [r(2, 3, 4)], {"shape": (6, 4)}, "reshape's gradient is reshaped back"),
            ("transpose", "transpose", [r(2, 3, 4)], {"dim0": 1, "dim1": 2}, "transpose's gradient is transposed back"),
        ],
        "ops.indexing": [
            ("getitem [0,2,0,0,1]", "getitem", [r(4, 3)], {"index": np.array([0, 2, 0, 0, 1])},
             "a row picked several times must receive the sum of its gradients (np.add.at), not the last one "
             "(repeated-index gradients overwritten)"),
        ],
        "ops.softmax": [
            ("softmax", "softmax", [r(3, 5)], {"axis": -1}, "softmax's backward is s * (g - sum(g s))"),
            ("softmax of scores near 1000", "softmax", [r(2, 5) * 3 + 1000.0], {"axis": -1},
             "softmax must subtract each row's max before exp, or exp overflows to inf/NaN (Check Loss "
             "Computation: NaN/Inf values)"),
            ("log_softmax of scores near -1000", "log_softmax", [r(2, 5) * 3 - 1000.0], {"axis": -1},
             "log_softmax must be computed as x - max - log(sum exp(x - max))"),
        ],
    }


def _one(ctx, op, arrays, kwargs, rng):
    """(value error, gradient error, detail) of one op on one case."""
    a, np_op = ctx.adapter, _np_ops(ctx.gelu_variant)[op]
    ts = [a.tensor(x.copy(), requires_grad=True) for x in arrays]
    out = a.op(op, *ts, **kwargs)
    want = np_op(*arrays, **kwargs)
    got = a.array(out)
    value_err = rel_error(got, want)
    g = rng.normal(size=np.shape(want))
    a.backward(out, g)
    grad_err = 0.0
    for i, (t, x) in enumerate(zip(ts, arrays)):
        work = [y.copy() for y in arrays]
        numeric = ref.central_differences(lambda: float(np.sum(g * np_op(*work, **kwargs))), {"x": work[i]},
                                          eps=1e-6, max_entries=64)["x"]
        got_g = a.grad(t)
        if got_g is None:
            return value_err, float("inf"), f"input {i} got no gradient"
        got_g = np.asarray(got_g, dtype=np.float64)
        if got_g.shape != x.shape:
            return value_err, float("inf"), f"input {i}'s gradient has shape {got_g.shape}, the input {x.shape}"
        grad_err = max(grad_err, rel_error(got_g.reshape(-1)[numeric[0]], numeric[1]))
    return value_err, grad_err, ""


def make_op_check(family):
    def check(ctx):
        rng = np.random.default_rng(ctx.seed)
        worst, bad = 0.0, []
        for label, op, arrays, kwargs, cause in _cases(rng)[family]:
            try:
                v, g, detail = _one(ctx, op, arrays, kwargs, rng)
            except Exception as exc:  # one op crashing must not hide the others
                v, g, detail = float("inf"), float("inf"), f"raised {type(exc).__name__}: {exc}"[:200]
            errs = [e for e in (v, g) if e == e]
            worst = max([worst] + errs)
            if not (v <= TOL and g <= TOL):  # NaN fails too
                what = detail or (f"value off by {v:.2g}" if not v <= TOL else f"gradient off by {g:.2g}")
                bad.append((f"{label} ({what})", cause))
        n = len(_cases(rng)[family])
        measured = f"{n - len(bad)}/{n} ops match, worst relative error {worst:.1e}"
        if bad:
            measured = f"{n - len(bad)}/{n} ops match; wrong: " + ", ".join(label for label, _ in bad)
        causes = list(dict.fromkeys(part for _, cause in bad for part in cause.split("; ")))
        return judged(not bad, measured, f"value and gradient within {TOL:g} (relative) of float64 numpy",
                      "Check Gradient Flow: " + "; ".join(causes))
    check.__doc__ = f"{family}: values against numpy, gradients against float64 central differences."
    return check


OP_CHECKS = {family: make_op_check(family) for family in
             ("ops.elementwise", "ops.unary", "ops.reduce_shape", "ops.indexing", "ops.softmax")}
