"""The test plan's layer 2.1: can a GPT memorize five short code snippets?"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from ..core.autograd import no_grad
from ..nn.losses import CrossEntropyLoss
from ..core.random import manual_seed
from ..text.tokenization import CharTokenizer
from ..training.config import TrainConfig
from ..nn.config import GPTConfig
from ..nn.transformer import GPT
from ..text.corpus import MEMORIZATION_PATTERNS
from .recipes import PLAN_MODEL, PLAN_TRAIN


@dataclass
class MemorizationResult:
    """What one memorization run measured."""

    seed: int
    train: TrainConfig
    losses: list = field(repr=False)  # training loss at every step
    initial_loss: float  # loss over all patterns before training
    final_loss: float  # loss over all patterns after training
    seconds: float
    params_with_grad: int  # parameters that receive a finite gradient from the untrained model
    params_total: int
    vocab_size: int

    @property
    def decrease(self) -> float:
        """Fractional loss decrease, e.g. 0.99 for 99%."""
        return 1.0 - self.final_loss / self.initial_loss

    @property
    def last100_mean(self) -> float:
        return float(np.mean(self.losses[-100:]))

    @property
    def has_nonfinite(self) -> bool:
        return not np.all(np.isfinite(self.losses))

    def steps_to(self, threshold: float = 0.1, window: int = 5) -> int | None:
        """First step (1-based) at which the mean of the last `window` training losses is below threshold."""
        losses = np.asarray(self.losses)
        if len(losses) < window:
            return None
        running = np.convolve(losses, np.ones(window) / window, mode="valid")
        below = np.nonzero(running < threshold)[0]
        return int(below[0] + window) if below.size else None


def padded_patterns(tokenizer: CharTokenizer, patterns: list[str], length: int) -> np.ndarray:
    """(N, length) ids, each pattern padded with 0 (`<UNK>`, the plan's padding) to `length`."""
    data = np.zeros((len(patterns), length), dtype=np.int64)
    for i, text in enumerate(patterns):
        ids = tokenizer.encode(text)
        if len(ids) > length:
            raise ValueError(f"padded_patterns: pattern {i} has {len(ids)} tokens, more than {length}")
        data[i, : len(ids)] = ids
    return data


def gradient_flow(model, loss_fn, inputs, targets) -> tuple[int, int, list]:
    """(parameters with a finite gradient, all parameters, names of those without) after one backward.

    The gradients are cleared afterwards; the weights are not touched.
    """
    model.zero_grad()
    loss_fn(model(inputs), targets).backward()
    named = list(model.named_parameters())
    missing = [name for name, p in named if p.grad is None or not np.all(np.isfinite(p.grad))]
    model.zero_grad()
    return len(named) - len(missing), len(named), missing


def pattern_batches(inputs, targets, batch_size: int, rng):
    """Endless (inputs, targets) batches: all patterns at once, or each pattern once per epoch in a
    random order drawn from `rng` (drawn lazily, one batch at a time, so the draws interleave with training)."""
    order: list = []
    while True:
        if batch_size >= len(inputs):
            yield inputs, targets
            continue
        if len(order) < batch_size:
            order.extend(rng.permutation(len(inputs)).tolist())
        batch, order = order[:batch_size], order[batch_size:]
        yield inputs[batch], targets[batch]


def run_memorization(seed: int = 0, train: TrainConfig = PLAN_TRAIN, patterns: list[str] | None = None,
                     model_config: GPTConfig = PLAN_MODEL) -> MemorizationResult:
    """Train a fresh GPT of `model_config`'s shape on the patterns with `train`; deterministic for a given seed."""
    patterns = list(MEMORIZATION_PATTERNS if patterns is None else patterns)
    tokenizer = CharTokenizer()
    tokenizer.build_vocab(patterns)
    data = padded_patterns(tokenizer, patterns, model_config.block_size)
    inputs, targets = data[:, :-1], data[:, 1:]  # (N, T): targets shifted by one

    rng = manual_seed(seed)
    model = GPT(replace(model_config, vocab_size=tokenizer.vocab_size))
    loss_fn = CrossEntropyLoss()
    trainer = train.make_trainer(model, loss_fn)

    def full_loss() -> float:
        with no_grad():
            return float(loss_fn(model(inputs), targets).data)

    initial = full_loss()
    with_grad, total, _ = gradient_flow(model, loss_fn, inputs[:1], targets[:1])
    start = time.perf_counter()
    losses = trainer.fit(pattern_batches(inputs, targets, train.batch_size, rng), steps=train.max_iters)["train_loss"]
    seconds = time.perf_counter() - start
    return MemorizationResult(seed, train, losses, initial, full_loss(), seconds, with_grad, total, tokenizer.vocab_size)
