"""The whole GPT against the reference, gradient flow to every parameter, and the loss, optimizer, dropout
and data pieces the training loop is made of."""

from __future__ import annotations

import numpy as np

from . import reference as ref
from .checks_components import GRAD_TOL, VALUE_TOL, random_params
from .outcome import judged, passed, rel_error

GPT_SIZE = dict(vocab_size=11, embed_dim=8, num_layers=2, num_heads=2, max_seq_len=8)


def check_gpt(ctx):
    """The GPT's logits and every parameter's gradient against the float64 reference of the same weights."""
    a, rng = ctx.adapter, np.random.default_rng(ctx.seed + 11)
    model = a.gpt(**GPT_SIZE)
    a.train_mode(model, False)
    params = random_params({k: v.shape for k, v in a.get_params(model).items()}, rng)
    a.set_params(model, params)
    ids = rng.integers(0, GPT_SIZE["vocab_size"], size=(2, 6))
    out = a.call(model, ids)
    h, gv = GPT_SIZE["num_heads"], ctx.gelu_variant
    want = ref.gpt(params, ids, h, gv)
    value_err = rel_error(a.array(out), want)
    g = rng.normal(size=want.shape)
    a.backward(out, g)
    work = {k: v.copy() for k, v in params.items()}
    numeric = ref.central_differences(lambda: float(np.sum(g * ref.gpt(work, ids, h, gv))), work, max_entries=8,
                                      seed=ctx.seed)
    tensors, bad = a.parameters(model), []
    floor = 1e-3 * max(float(np.max(np.abs(num), initial=0.0)) for _, num in numeric.values())  # a true 0 (key bias)
    for k, (idx, num) in numeric.items():
        got = a.grad(tensors[k])
        err = (float("inf") if np.max(np.abs(num)) > 1e-9 else 0.0) if got is None else \
            rel_error(np.asarray(got, dtype=np.float64).reshape(-1)[idx], num, floor)
        if not err <= GRAD_TOL:
            bad.append(f"{k} ({'none' if got is None else f'{err:.2g}'})")
    ok = value_err <= VALUE_TOL and not bad
    if not value_err <= VALUE_TOL:
        measured = f"logits differ from the float64 reference with the same weights by {value_err:.2g} (relative)"
    elif bad:
        measured = f"gradients wrong for {len(bad)}/{len(numeric)} parameters: " + ", ".join(bad[:4])
    else:
        measured = f"logits within {value_err:.1e}, all {len(numeric)} parameters' gradients within {GRAD_TOL:g}"
    return judged(ok, measured, f"logits within {VALUE_TOL:g}, gradients within {GRAD_TOL:g} of float64",
                  "tokens + positions -> blocks -> ln_f -> lm_head, causal; Check Architecture and Check Gradient Flow "
                  "(an embedding detached from the graph, positions not added, the mask)")


def check_gradient_flow(ctx):
    """The plan's 21/21: after one backward at the real initialization, every parameter's gradient is finite and
    non-zero (the attention key bias excepted: its true gradient is 0)."""
    a, rng = ctx.adapter, np.random.default_rng(ctx.seed)
    model = a.gpt(vocab_size=30, embed_dim=32, num_layers=1, num_heads=4, max_seq_len=64)
    ids = rng.integers(1, 30, size=(2, 17))
    x, y = ids[:, :-1], ids[:, 1:]
    a.backward(a.cross_entropy(a.call(model, x), y))
    missing = []
    for name, t in a.parameters(model).items():
        g = a.grad(t)
        zero_ok = name.endswith("k_proj.bias")
        if g is None or not np.all(np.isfinite(g)) or (not zero_ok and not np.max(np.abs(g)) > 0):
            missing.append(name)
    n = len(a.parameters(model))
    return judged(not missing, f"{n - len(missing)}/{n} parameters receive a finite gradient"
                  + (f"; none for {', '.join(missing[:5])}" if missing else ""),
                  f"{n}/{n} (the key bias may be 0: softmax ignores a shift shared by a row)",
                  "Check Gradient Flow: a parameter without a gradient is cut out of the graph (data copied "
                  "into a new tensor, or an op without a backward)")


def check_cross_entropy(ctx):
    """The implementation's loss against the grader's own, from the implementation's logits."""
    a, rng = ctx.adapter, np.random.default_rng(ctx.seed + 3)
    worst, text = 0.0, ""
    for scale, shift in ((3.0, 0.0), (1.0, 1000.0)):
        logits = rng.normal(size=(2, 3, 6)) * scale + shift
        targets = rng.integers(0, 6, size=(2, 3))
        lt = a.tensor(logits.copy(), requires_grad=True)
        loss = a.cross_entropy(lt, targets)
        got = float(np.asarray(a.array(loss)).reshape(-1)[0])
        want = ref.cross_entropy(a.array(lt), targets)
        a.backward(loss)
        work = logits.copy()
        idx, num = ref.central_differences(lambda: ref.cross_entropy(work, targets), {"l": work}, max_entries=36)["l"]
        g = a.grad(lt)
        grad_err = float("inf") if g is None else rel_error(np.asarray(g, dtype=np.float64).reshape(-1)[idx], num)
        err = abs(got - want) / max(1.0, abs(want))
        if not (err <= 1e-3 and grad_err <= GRAD_TOL) and not text:
            text = (f"your loss says {got:.3f}, the logits say {want:.3f}" if not err <= 1e-3 else
                    f"the loss's gradient is off by {grad_err:.2g}") + (" (logits near 1000)" if shift else "")
        worst = max(worst, err if err == err else np.inf)
    return judged(not text, text or f"loss equals the grader's cross-entropy of the logits within {worst:.1e}, "
                  "gradient within tolerance, stable at logits near 1000",
                  "loss within 1e-3 of the grader's, gradient within 5e-3",
                  "Check Loss Computation: CE = mean(logsumexp(logits) - logit[target]), computed with the max "
                  "shift; its gradient is softmax - onehot, divided by N")


def check_adam(ctx):
    """Three Adam steps on a fixed gradient against Adam's formula with bias correction."""
    a, rng = ctx.adapter, np.random.default_rng(ctx.seed + 5)
    layer = a.linear(3, 2)
    w0 = {"weight": rng.normal(size=(3, 2)), "bias": rng.normal(size=2)}
    a.set_params(layer, w0)
    x, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    opt = a.adam(layer, lr=0.1)
    for _ in range(3):
        a.zero_grad(opt)
        a.backward(a.call(layer, a.tensor(x)), g)
        a.step(opt)
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.1
    grads = {"weight": x.T @ g, "bias": g.sum(0)}
    worst = 0.0
    for k, w in w0.items():
        m = v = 0.0
        w = w.copy()
        for t in range(1, 4):
            m = b1 * m + (1 - b1) * grads[k]
            v = b2 * v + (1 - b2) * grads[k] ** 2
            w -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        worst = max(worst, float(np.max(np.abs(a.get_params(layer)[k] - w))))
    return judged(worst <= 1e-4, f"weights after 3 steps differ from Adam's formula by {worst:.2g}", "<= 1e-4",
                  "Check Hyperparameters: Adam divides m and v by (1 - beta^t) (bias correction) before the update "
                  "w -= lr * m_hat / (sqrt(v_hat) + eps) (without it the first steps are ~3x too large); zero_grad must clear "
                  "the gradients between steps (else they pile up)")


def check_dropout(ctx):
    """Dropout keeps the mean in training (survivors scaled by 1/(1-p)) and is the identity in eval mode."""
    a = ctx.adapter
    layer = a.dropout(0.5)
    x = np.ones((50, 40))
    a.train_mode(layer, True)
    train = np.asarray(a.array(a.call(layer, a.tensor(x))), dtype=np.float64)
    a.train_mode(layer, False)
    evaluated = np.asarray(a.array(a.call(layer, a.tensor(x))), dtype=np.float64)
    zeros, mean, eval_err = float(np.mean(train == 0)), float(train.mean()), float(np.max(np.abs(evaluated - x)))
    ok = 0.4 <= zeros <= 0.6 and abs(mean - 1) <= 0.1 and eval_err == 0
    return judged(ok, f"train: {zeros:.0%} zeros, mean {mean:.2f}; eval: max change {eval_err:.2g}",
                  "train: ~50% zeros, mean 1.00 +- 0.1; eval: unchanged",
                  "dropout scales the survivors by 1/(1-p) in training and does nothing in eval mode")


def check_data(ctx):
    """Tokenizer round trip, ids in range, vocabulary size; language-model targets shifted by one."""
    a = ctx.adapter
    texts = ctx.data.get("memorization") or ["def add(a, b):\n    return a + b"]
    tok = a.tokenizer(texts)
    problems = []
    for text in texts:
        ids = list(tok.encode(text))
        if any(not 0 < i < tok.vocab_size for i in ids):
            problems.append(f"ids outside 1..{tok.vocab_size - 1} for {text[:20]!r} (id 0 is padding)")
        if tok.decode(ids) != text:
            problems.append(f"decode(encode(x)) != x for {text[:20]!r}")
    seq = np.arange(1, 9)[None, :]
    inputs, targets = a.lm_targets(seq)
    if not (np.array_equal(np.asarray(inputs), seq[:, :-1]) and np.array_equal(np.asarray(targets), seq[:, 1:])):
        problems.append(f"targets {np.asarray(targets).tolist()} for inputs {np.asarray(inputs).tolist()} "
                        f"are not the inputs shifted by one")
    if problems:
        return judged(False, "; ".join(problems[:2]), "round trip, ids in range, targets = inputs shifted by 1",
                      "Check Data Processing: tokenization produces correct IDs; targets are shifted by 1")
    return passed(f"{len(texts)} texts round-trip, vocab {tok.vocab_size}, targets shifted by one",
                  "round trip, ids in range, targets = inputs shifted by 1")
