"""The grader's own training loop, through the adapter; every judged loss is recomputed from the logits."""

from __future__ import annotations

import numpy as np

from . import reference as ref


def pad(tokenizer, texts, length):
    """(N, length) ids, each text padded with 0 (the plan's padding); texts longer than `length` are cut."""
    out = np.zeros((len(texts), length), dtype=np.int64)
    for i, text in enumerate(texts):
        ids = list(tokenizer.encode(text))[:length]
        out[i, : len(ids)] = ids
    return out


def logits_of(adapter, model, ids, batch=64):
    """Logits (N, T, V) as float64, without a graph, in batches."""
    parts = []
    with adapter.no_grad():
        for i in range(0, len(ids), batch):
            parts.append(np.asarray(adapter.array(adapter.call(model, ids[i:i + batch])), dtype=np.float64))
    return np.concatenate(parts)


def loss_of(adapter, model, tokens):
    """The grader's cross-entropy of the model's logits on (N, T+1) tokens (targets shifted by one here)."""
    return ref.cross_entropy(logits_of(adapter, model, tokens[:, :-1]), tokens[:, 1:])


def train(adapter, model, batches, steps: int, lr: float, on_step=None):
    """Adam on `steps` batches of (N, T+1) tokens; returns (optimizer, grader-computed losses per step)."""
    opt = adapter.adam(model, lr)
    adapter.train_mode(model, True)
    losses = []
    for step in range(steps):
        tokens = next(batches)
        inputs, targets = adapter.lm_targets(tokens)
        adapter.zero_grad(opt)
        logits = adapter.call(model, np.asarray(inputs))
        adapter.backward(adapter.cross_entropy(logits, np.asarray(targets)))
        adapter.step(opt)
        losses.append(ref.cross_entropy(np.asarray(adapter.array(logits), dtype=np.float64), tokens[:, 1:]))
        if on_step is not None:
            on_step(step, losses[-1])
    adapter.train_mode(model, False)
    return opt, losses


def batches_from(data, batch_size, rng):
    """Endless batches of rows of `data`, each row once per epoch, in random order."""
    while True:
        order = rng.permutation(len(data))
        for i in range(0, len(order) - batch_size + 1, batch_size):
            yield data[order[i:i + batch_size]]
        if batch_size > len(data):
            yield data
