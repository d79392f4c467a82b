"""Layer 5.1 of the test plan, spelled out: tokenizer -> model -> loss -> optimizer -> backward -> update.

Every stage is called by hand (no Trainer), and each hand-off is checked on the way.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tinytorch.nn.losses import CrossEntropyLoss
from tinytorch.optim.optimizers import AdamW
from tinytorch.text.tokenization import CharTokenizer
from tinytorch.nn.transformer import GPT
from tinytorch.data.python_snippets import MEMORIZATION_PATTERNS
from dataclasses import replace

from tinytorch.experiments.code_model import CODE_TRAIN, train_code_model

SEQ = 40


def encoded_batch(tokenizer, texts):
    """(N, SEQ) inputs and targets shifted by one; padding (id 0) is a target, as in the plan."""
    data = np.zeros((len(texts), SEQ + 1), dtype=np.int64)
    for i, text in enumerate(texts):
        ids = tokenizer.encode(text)
        data[i, : len(ids)] = ids
    return data[:, :-1], data[:, 1:]


def test_pipeline_by_hand_learns():
    tinytorch.manual_seed(0)
    texts = MEMORIZATION_PATTERNS
    tokenizer = CharTokenizer()
    tokenizer.build_vocab(texts)
    assert tokenizer.decode(tokenizer.encode(texts[0])) == texts[0]
    inputs, targets = encoded_batch(tokenizer, texts)
    assert np.array_equal(inputs[:, 1:], targets[:, :-1])  # targets are the inputs shifted by one

    model = GPT(tokenizer.vocab_size, 32, 1, 4, max_seq_len=SEQ)
    optimizer = AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    loss_fn = CrossEntropyLoss()
    losses = []
    for step in range(40):
        logits = model(inputs)
        assert logits.shape == (len(texts), SEQ, tokenizer.vocab_size)
        loss = loss_fn(logits, targets)
        optimizer.zero_grad()
        loss.backward()
        if step == 0:
            # the untrained model predicts roughly uniformly: loss near ln(vocab)
            first = float(loss.data)
            assert abs(first - np.log(tokenizer.vocab_size)) < 0.5, first
            named = list(model.named_parameters())
            no_grad = [n for n, p in named if p.grad is None or not np.any(p.grad)]
            assert not no_grad, f"parameters without a gradient: {no_grad}"
            before = {n: p.data.copy() for n, p in named}
        optimizer.step()
        if step == 0:
            unchanged = [n for n, p in model.named_parameters() if np.array_equal(before[n], p.data)]
            assert not unchanged, f"parameters the update did not change: {unchanged}"
        losses.append(float(loss.data))
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.3 * losses[0], f"loss went from {losses[0]:.3f} to {losses[-1]:.3f}"

    # and the trained model continues a pattern it learned
    prompt = tokenizer.encode("def add")
    out = model.generate(np.asarray(prompt), 5, temperature=0.0)
    assert tokenizer.decode(out.tolist()).startswith("def add(a")


def test_train_code_model_rejects_an_empty_corpus():
    with pytest.raises(ValueError, match="no training snippets"):
        train_code_model([], train=replace(CODE_TRAIN, max_iters=1, warmup_iters=0))
