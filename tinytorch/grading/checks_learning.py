"""Layers 2 and 5 of the plan on the implementation: memorization, pattern learning, generalization, the
training pipeline, checkpoint resume, generation validity, and cached against full generation."""

from __future__ import annotations

import ast
import math
import os
import tempfile

import numpy as np

from . import reference as ref
from .outcome import judged, skipped
from .training import batches_from, logits_of, loss_of, pad, train

MEMORIZE = dict(embed_dim=32, num_layers=1, num_heads=4, max_seq_len=64)  # the plan's recipe
CODE = dict(embed_dim=64, num_layers=2, num_heads=4, max_seq_len=64)
CODE_STEPS, PATTERN_STEPS, CODE_LR, CODE_BATCH = 500, 300, 3e-3, 16


def memorized(ctx):
    """The plan's 2.1 run: (model, tokenizer, data, initial loss, final loss), once per worker."""
    def make():
        a = ctx.adapter
        texts = ctx.data["memorization"]
        tok = a.tokenizer(texts)
        data = pad(tok, texts, MEMORIZE["max_seq_len"] + 1)
        model = a.gpt(tok.vocab_size, **MEMORIZE)
        a.train_mode(model, False)
        initial = loss_of(a, model, data)
        train(a, model, batches_from(data, 1, np.random.default_rng(ctx.seed)), 500, 1e-3)
        return model, tok, data, initial, loss_of(a, model, data)
    return ctx.once("memorized", make)


def check_memorization(ctx):
    _, tok, _, initial, final = memorized(ctx)
    decrease = 1 - final / initial
    start_ok = abs(initial - math.log(tok.vocab_size)) < 1.0
    return judged(decrease > 0.8 and start_ok, f"{decrease:.1%} decrease ({initial:.3f} -> {final:.3f}, the grader's "
                  f"loss from your logits; ln(vocab) = {math.log(tok.vocab_size):.3f})",
                  "> 80% in 500 steps, initial loss within 1 of ln(vocab)",
                  "Check Loss Computation (initial ~ln(vocab_size), decreasing) and Check Hyperparameters; if the "
                  "component checks pass, look at the optimizer step and zero_grad")


def _masked_loss(adapter, model, data):
    """The grader's loss over the real positions of padded snippets (each snippet's end token included)."""
    logits = logits_of(adapter, model, data[:, :-1])
    targets = data[:, 1:]
    keep = np.cumsum(targets == 0, axis=1) <= 1  # up to and including the first 0 (the end token)
    logp = ref.log_softmax(logits)
    picked = np.take_along_axis(logp, targets[..., None], -1)[..., 0]
    return float(-picked[keep].mean())


def code_model(ctx):
    """A model trained on the 45 training snippets, with held-out and training loss every 10 steps."""
    def make():
        a, split = ctx.adapter, ctx.data["split"]
        tok = a.tokenizer(split["train"] + split["test"])
        train_data = pad(tok, split["train"], CODE["max_seq_len"] + 1)
        test_data = pad(tok, split["test"], CODE["max_seq_len"] + 1)
        model = a.gpt(tok.vocab_size, **CODE)
        a.train_mode(model, False)
        initial = _masked_loss(a, model, train_data)
        evals = []

        def on_step(step, _):
            if (step + 1) % 10 == 0:
                a.train_mode(model, False)
                evals.append((step + 1, _masked_loss(a, model, train_data), _masked_loss(a, model, test_data)))
                a.train_mode(model, True)
        train(a, model, batches_from(train_data, CODE_BATCH, np.random.default_rng(ctx.seed)), CODE_STEPS, CODE_LR,
              on_step)
        return model, tok, initial, evals
    return ctx.once("code_model", make)


def check_generalization(ctx):
    """Held-out loss within 2x of the training loss at the early-stopping point: the first evaluation whose
    held-out loss is within 1% of the lowest (the model a practitioner would keep)."""
    _, _, _, evals = code_model(ctx)
    best = min(e[2] for e in evals)
    step, train_loss, held = next(e for e in evals if e[2] <= best * 1.01)
    ratio = held / train_loss
    return judged(ratio <= 2.0, f"held-out/train {ratio:.2f} (held-out {held:.3f} / train {train_loss:.3f} at step {step})",
                  "<= 2.0", "the model memorizes without learning structure: check the mask (a model that sees "
                  "the future learns to copy the next character) and the data split")


def check_pipeline(ctx):
    """The plan's 5.1: tokenizer -> model -> loss -> optimizer on the 45 snippets, loss down by more than 80%."""
    _, _, initial, evals = code_model(ctx)
    final = evals[-1][1]
    decrease = 1 - final / initial
    return judged(decrease > 0.8, f"{decrease:.1%} decrease ({initial:.3f} -> {final:.3f}) in {CODE_STEPS} steps",
                  "> 80%", "Check Loss Computation and Check Hyperparameters (learning rate 1e-4 .. 1e-2)")


def completion(adapter, model, tok, prompt, new_tokens=48, max_len=CODE["max_seq_len"]):
    """(greedy completion of `prompt` cut at the end token 0, all generated ids); prompt + completion fit in
    `max_len`. Uses the key/value cache when the adapter offers one (checked against the full path separately)."""
    ids = np.asarray(tok.encode(prompt), dtype=np.int64)
    gen = adapter.generate_cached if adapter.offers_cached_generation else adapter.generate
    generated = [int(i) for i in np.asarray(gen(model, ids, min(new_tokens, max_len - len(ids)))).reshape(-1)[len(ids):]]
    out = generated[: generated.index(0)] if 0 in generated else generated
    return tok.decode(out), generated


def _valid(code: str) -> bool:
    for text in (code, code.rsplit("\n", 1)[0] if "\n" in code else code):  # an unfinished last line is cut
        try:
            ast.parse(text)
            return True
        except SyntaxError:
            continue
    return False


def check_generation(ctx):
    """The plan's 5.3: greedy completions of each snippet's first line parse as Python (held-out prompts first)."""
    a = ctx.adapter
    model, tok, _, _ = code_model(ctx)
    split = ctx.data["split"]
    snippets = split["test"] + split["train"]
    prompts = [s.split("\n", 1)[0] + "\n" if "\n" in s else s[: len(s) // 2] for s in snippets]
    bad_ids, valid, invalid = [], 0, []
    for prompt in prompts:
        text, ids = completion(a, model, tok, prompt)
        if any(not 0 <= i < tok.vocab_size for i in ids):
            bad_ids.append(prompt)
        ok = _valid(prompt + text)
        valid += ok
        if not ok:
            invalid.append(repr(prompt + text))
    rate = valid / len(prompts)
    ok = rate >= 0.8 and not bad_ids
    return judged(ok, f"{rate:.0%} of completions parse ({valid}/{len(prompts)}, 5 held-out prompts first)"
                  + (f"; ids outside the vocabulary for {len(bad_ids)} prompts" if bad_ids else "")
                  + (f"; e.g. {invalid[0][:60]}" if invalid and not ok else ""),
                  ">= 80%, every id in the vocabulary", "Check Data Processing (targets shifted by 1, the end token) "
                  "and the training layers above")


def check_cached_generation(ctx):
    """Greedy generation with the key/value cache equals generation recomputing the whole context."""
    a = ctx.adapter
    if not a.offers_cached_generation:
        return skipped("the adapter offers no cached generation")
    model, tok, _, _, _ = memorized(ctx)
    mismatches = []
    for text in ctx.data["memorization"]:
        prompt = np.asarray(tok.encode(text[:6]), dtype=np.int64)
        full = np.asarray(a.generate(model, prompt, 40)).reshape(-1)
        cached = np.asarray(a.generate_cached(model, prompt, 40)).reshape(-1)
        if not np.array_equal(full, cached):
            n = min(len(full), len(cached))
            first = next((i for i in range(n) if full[i] != cached[i]), n)
            mismatches.append(f"{text[:6]!r}: first difference at position {first}")
    return judged(not mismatches, f"{5 - len(mismatches)}/5 prompts give identical ids with and without the cache"
                  + (f"; {mismatches[0]}" if mismatches else ""), "5/5 identical (40 new tokens each)",
                  "the cached path must place each new token at its true position (positions restarting at 0, "
                  "or a cache offset by one, shifts every later token)")


def check_resume(ctx):
    """Train, save, go on; a fresh model that loads the checkpoint must continue identically."""
    a = ctx.adapter
    texts = ctx.data["memorization"]
    tok = a.tokenizer(texts)
    data = pad(tok, texts, 33)
    size = dict(vocab_size=tok.vocab_size, embed_dim=16, num_layers=1, num_heads=2, max_seq_len=32)

    def steps(model, opt, n, offset):
        a.train_mode(model, True)
        for i in range(n):
            batch = data[[(offset + i) % len(data)]]
            x, y = a.lm_targets(batch)
            a.zero_grad(opt)
            a.backward(a.cross_entropy(a.call(model, np.asarray(x)), np.asarray(y)))
            a.step(opt)
        a.train_mode(model, False)

    model = a.gpt(**size)
    opt = a.adam(model, 3e-3)
    steps(model, opt, 30, 0)
    checkpoint_loss = loss_of(a, model, data)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ckpt")
        a.save(path, model, opt)
        steps(model, opt, 30, 30)
        a.manual_seed(ctx.seed + 1000)  # the fresh model starts from other weights
        fresh = a.gpt(**size)
        fresh_opt = a.adam(fresh, 3e-3)
        a.load(path, fresh, fresh_opt)
        steps(fresh, fresh_opt, 30, 30)
    want, got = a.get_params(model), a.get_params(fresh)
    diff = max(float(np.max(np.abs(want[k] - got[k]))) for k in want)
    final = loss_of(a, fresh, data)
    ok = diff <= 1e-5 and final < checkpoint_loss
    return judged(ok, f"resumed weights differ from the uninterrupted run by {diff:.2g}; loss {checkpoint_loss:.3f} at "
                  f"the checkpoint -> {final:.3f}", "<= 1e-5, loss still decreasing",
                  "the checkpoint must hold the weights and the optimizer state (Adam's moments and step count); "
                  "a resumed Adam without them takes different steps")


def check_pattern(ctx):
    """The plan's 2.2: after training on arithmetic functions, complete functions with names never seen."""
    a, data = ctx.adapter, ctx.data["pattern"]
    tok = a.tokenizer(data["train"] + [p for p, _, _ in data["prompts"]])
    train_data = pad(tok, data["train"], CODE["max_seq_len"] + 1)
    model = a.gpt(tok.vocab_size, **CODE)
    train(a, model, batches_from(train_data, CODE_BATCH, np.random.default_rng(ctx.seed)), PATTERN_STEPS, CODE_LR)
    correct, wrong = 0, []
    for prompt, p, q in data["prompts"]:
        line = completion(a, model, tok, prompt, 16)[0].split("\n")[0]
        if line in {f"{p} {op} {q}" for op in data["ops"]}:
            correct += 1
        elif not wrong:
            wrong.append(f"{prompt.split('(')[0]}(...) -> {line!r}")
    rate = correct / len(data["prompts"])
    return judged(rate >= 0.9, f"{rate:.0%} of unseen-name completions correct ({correct}/{len(data['prompts'])}, "
                  f"{PATTERN_STEPS} steps)" + (f"; e.g. {wrong[0]}" if wrong and rate < 0.9 else ""), ">= 90%",
                  "the model learns the examples but not the structure: check the mask and the positions, then the "
                  "learning rate")
