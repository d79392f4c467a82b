"""The milestone tasks (copy, reversal, mixed prefix at 95 / 95 / 90 % exact) and the attention-entropy probe."""

from __future__ import annotations

import numpy as np

from . import reference as ref
from . import tasks
from .outcome import judged
from .training import batches_from, logits_of, train

BARS = {"copy": 0.95, "reversal": 0.95, "mixed": 0.90}
SIZE = dict(vocab_size=tasks.VOCAB, num_layers=2, num_heads=4, max_seq_len=tasks.SEQ)
WIDTH = {"copy": 32, "reversal": 32, "mixed": 64}  # mixed must compose two heads: wider trains past its plateau
STEPS, BATCH, LR = {"copy": 300, "reversal": 300, "mixed": 450}, 32, 3e-3
ENTROPY_BAR = 0.90


def trained_task(ctx, task):
    """(model, exact-match fraction on 256 new sequences), trained once per worker."""
    def make():
        a, rng = ctx.adapter, np.random.default_rng(ctx.seed + 17)
        model = a.gpt(embed_dim=WIDTH[task], **SIZE)
        train(a, model, batches_from(tasks.sequences(task, 4096, rng), BATCH, rng), STEPS[task], LR)
        test = tasks.sequences(task, 256, np.random.default_rng(ctx.seed + 99))
        return model, tasks.exact_match(logits_of(a, model, test[:, :-1]), test)
    return ctx.once(("task", task), make)


def make_task_check(task):
    def check(ctx):
        _, accuracy = trained_task(ctx, task)
        what = {"copy": "copy the digits", "reversal": "reverse the digits",
                "mixed": "copy or reverse as the first token says"}[task]
        return judged(accuracy >= BARS[task], f"{accuracy:.1%} of 256 new sequences exact ({what}, "
                      f"{STEPS[task]} steps)", f">= {BARS[task]:.0%}",
                      "the model cannot route information by position: check the mask, the 1/sqrt(d) scale, "
                      "positions added to the embeddings, and that the gradient reaches Q and K")
    return check


def check_attention_entropy(ctx):
    """After learning reversal, attention must be selective: mean row entropy <= 0.90 of uniform."""
    a = ctx.adapter
    model, _ = trained_task(ctx, "reversal")
    seqs = tasks.sequences("reversal", 32, np.random.default_rng(ctx.seed + 5))[:, :-1]
    maps = ref.gpt_attention_maps(a.get_params(model), seqs, SIZE["num_heads"], ctx.gelu_variant)
    t = seqs.shape[1]
    keys = np.arange(1, t + 1)  # row i may attend to i + 1 keys
    ratios, uniform_rows, rows = [], 0, 0
    for w in maps:  # (B, H, T, T)
        ent = -(w * np.log(np.clip(w, 1e-30, None))).sum(-1)[..., 1:]  # rows with one key carry no information
        ratio = ent / np.log(keys[1:])
        ratios.append(ratio.mean())
        uniform_rows += int(np.sum(ratio > 0.99))
        rows += ratio.size
    mean = float(np.mean(ratios))
    return judged(mean <= ENTROPY_BAR, f"mean attention entropy {mean:.2f} of uniform ({uniform_rows}/{rows} rows "
                  f"uniform) after learning reversal", f"<= {ENTROPY_BAR}",
                  f"{uniform_rows} of {rows} attention rows are uniform: the gradient does not reach the queries and "
                  "keys (Check Gradient Flow), or the scores are scaled away")
