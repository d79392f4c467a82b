"""The `tinytorch verify --report DIR` page: one self-contained HTML file (PNG plots embedded, also saved beside)."""

from __future__ import annotations

import base64
import datetime
import html
import os
import re

import numpy as np

from ..core.autograd import no_grad
from ..runtime.fileio import atomic_write
from ..nn.losses import CrossEntropyLoss
from . import plots

__all__ = ["write_report", "gradient_norms", "attention_maps"]


def gradient_norms(model, inputs, targets, loss_fn) -> list:
    """[(parameter name, gradient L2 norm)] for one backward of loss_fn(model(inputs), targets); grads cleared after."""
    was_training = model.training
    model.eval()
    model.zero_grad()
    try:
        loss_fn(model(inputs), targets).backward()
        return [(name, float(np.linalg.norm(p.grad)) if p.grad is not None else 0.0)
                for name, p in model.named_parameters()]
    finally:
        model.zero_grad()
        model.train(was_training)


def attention_maps(model, ids) -> list:
    """Per block, the (H, T, T) attention probabilities of a GPT for one sequence of ids (the model's own
    `return_attention`; eval mode, so no dropout)."""
    ids = np.asarray(ids, dtype=np.int64)[None]  # (1, T)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            _, weights = model(ids, return_attention=True)  # per layer (1, H, T, T)
    finally:
        model.train(was_training)
    return [np.asarray(w)[0] for w in weights]


def _marks(text: str) -> str:
    """Escaped text with the emoji marks as coloured symbols that every font has (headless browsers lack emoji)."""
    return (html.escape(text).replace("✅", '<span class="pass">✔</span>')
            .replace("❌", '<span class="fail">✘</span>'))


def _markdown(text: str) -> str:
    """The little Markdown the status block uses (**bold** and '- ' list items) as HTML."""
    out, items = [], []
    for line in text.splitlines():
        line = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", _marks(line))
        if line.startswith("- "):
            items.append(f"<li>{line[2:]}</li>")
            continue
        if items:
            out.append(f"<ul>{''.join(items)}</ul>")
            items = []
        if line.strip():
            out.append(f"<p>{line}</p>")
    if items:
        out.append(f"<ul>{''.join(items)}</ul>")
    return "".join(out)


def _mark(ok: bool) -> str:
    return _marks("✅" if ok else "❌")


def _img(name: str, fig, folder: str) -> str:
    data = plots.png_bytes(fig)
    atomic_write(os.path.join(folder, name), data)
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img alt="{html.escape(name)}" src="data:image/png;base64,{encoded}">'


def _copilot_sections(run, folder: str) -> list:
    from ..experiments.code_model import IGNORE
    from ..experiments.copilot import new_copilot

    parts = []
    loss_fn = CrossEntropyLoss(ignore_index=IGNORE)
    inputs, targets = run.dataset.inputs, run.dataset.targets
    after = gradient_norms(run.model, inputs, targets, loss_fn)
    fresh = new_copilot(run.seed, run.train, run.model_config)
    before = gradient_norms(fresh.model, inputs, targets, loss_fn)
    names = [n for n, _ in after]
    fig = plots.grad_norm_figure(names, [v for _, v in before], [v for _, v in after])
    zero = [n for n, v in after if v == 0.0]
    note = (f"{len(names) - len(zero)}/{len(names)} parameters receive a non-zero gradient."
            + (f" Zero: {', '.join(zero)}." if zero else ""))
    parts.append(f"<h2>Per-parameter gradient norms</h2><p>{html.escape(note)} The attention key bias "
                 "gets a gradient that is zero up to rounding: softmax ignores a constant shift of a "
                 f"query's scores.</p>{_img('gradient_norms.png', fig, folder)}")

    prompt = (run.test_snippets or run.train_snippets)[0][:24]
    ids = run.tokenizer.encode(prompt)
    maps = attention_maps(run.model, ids)
    fig = plots.attention_figure(maps, [run.tokenizer.decode([i]) for i in ids])
    parts.append(f"<h2>Attention maps</h2><p>Every head of the trained copilot on the held-out snippet "
                 f"<code>{html.escape(repr(prompt))}</code> (causal: nothing above the diagonal).</p>"
                 f"{_img('attention.png', fig, folder)}")
    return parts


def _cases_table(title: str, cases: list, header: tuple, limit: int = 50) -> str:
    rows = []
    for prompt, completion, ok in cases[:limit]:
        rows.append(f"<tr><td>{_mark(ok)}</td><td><pre>{html.escape(prompt)}</pre></td>"
                    f"<td><pre>{html.escape(completion)}</pre></td></tr>")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    return f"<h2>{html.escape(title)}</h2><table class='cases'><tr>{head}</tr>{''.join(rows)}</table>"


STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
.verdict { font-size: 1.3em; font-weight: bold; padding: .6em 1em; border-radius: 6px; }
.ok { background: #e5f5e0; color: #006d2c; } .bad { background: #fee0d2; color: #a50f15; }
table { border-collapse: collapse; width: 100%; font-size: .9em; }
td, th { border: 1px solid #ddd; padding: .3em .5em; vertical-align: top; text-align: left; }
th { background: #f3f3f3; } pre { margin: 0; white-space: pre-wrap; font-size: .95em; }
img { max-width: 100%; } .pass { color: #238b45; font-weight: bold; } .fail { color: #cb181d; font-weight: bold; }
.quick { background: #f7f7f7; padding: .2em 1em; border-radius: 6px; } .quick ul { margin: .3em 0 .6em; }
"""


def render_html(verification, figures: list) -> str:
    from ..experiments.verification import quick_block, verdict_line

    date = datetime.date.today().isoformat()
    ok = verification.verified
    rows = "".join(
        f"<tr><td>{_mark(l.passed)}</td><td>{l.section}</td><td>{html.escape(l.title)}</td>"
        f"<td>{html.escape(l.figure)}</td><td>{html.escape(l.threshold)}</td><td>{l.seconds:.1f}s</td></tr>"
        for l in verification.layers)
    budget = verification.budget
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tinytorch verify report</title><style>{STYLE}</style></head>
<body>
<h1>tinytorch: does the transformer learn?</h1>
<p>{date} &middot; {budget.name} run (seeds {list(budget.seeds)}) &middot; {verification.seconds:.1f}s in all</p>
<div class="verdict {'ok' if ok else 'bad'}">{_marks(verdict_line(verification))}</div>
<h2>Quick validation (the test plan's layer 2.1 recipe)</h2>
<div class="quick">{_markdown(quick_block(verification.quick, date, verification.quick_error))}</div>
<h2>Layers</h2>
<table><tr><th></th><th>plan</th><th>layer</th><th>measured</th><th>threshold</th><th>time</th></tr>{rows}</table>
{''.join(figures)}
</body></html>
"""


def write_report(verification, folder) -> str:
    """Write `index.html` (plots embedded) and the PNGs into `folder`; returns the page's path."""
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    art = verification.artifacts
    figures = []
    fig = plots.verification_loss_figure(art)
    if fig is not None:
        figures.append(f"<h2>Training and validation loss</h2>{_img('loss_curves.png', fig, folder)}")
    copilot = art.get("copilot") or {}
    if copilot:
        figures += _copilot_sections(copilot[min(copilot)], folder)
    generation = art.get("generation") or []
    if generation:
        figures.append(_cases_table("Sample completions (greedy; valid = ast.parse accepts prompt + completion)",
                                    generation[0][1], ("valid", "prompt", "completion")))
    pattern = art.get("pattern") or []
    if pattern:
        figures.append(_cases_table("Pattern learning: unseen function names", pattern[0].cases,
                                    ("correct", "prompt", "completion"), limit=15))
    checks = art.get("gradients") or []
    if checks:
        rows = "".join(f"<tr><td>{_mark(c.passed)}</td><td>{html.escape(c.name)}</td><td>{c.tensors}</td>"
                       f"<td>{c.max_error:.2e} ({html.escape(c.worst)})</td><td>{html.escape(c.detail)}</td></tr>"
                       for c in checks)
        figures.append("<h2>Component gradients vs float64 finite differences</h2><table><tr><th></th>"
                       "<th>component</th><th>tensors</th><th>worst relative error</th><th>problem</th></tr>"
                       f"{rows}</table>")
    if not copilot:
        figures.append("<p>Gradient norms, attention maps and completions come from the copilot layers "
                       "(pipeline, generation), which this run skipped.</p>")
    page = os.path.join(folder, "index.html")
    return atomic_write(page, render_html(verification, figures))
