"""Steps to a training loss below 0.1 on the plan's five patterns: ours (`run_memorization`) and torch's,
from the same initial weights and pattern order, both scored by `MemorizationResult.steps_to`."""

from __future__ import annotations

import math
import time
from dataclasses import replace

from ..core.random import manual_seed
from ..text.tokenization import CharTokenizer
from ..nn.config import GPTConfig
from ..nn.transformer import GPT
from ..training.config import TrainConfig
from ..text.corpus import MEMORIZATION_PATTERNS
from ..experiments.memorization import MemorizationResult, padded_patterns, pattern_batches, run_memorization
from ..experiments.recipes import PLAN_MODEL, PLAN_TRAIN
from .common import Figure, median, thread_limit, torch_or_none

SEEDS = (0, 1, 2, 3, 4)


def torch_memorization(seed: int = 0, train: TrainConfig = PLAN_TRAIN,
                       model_config: GPTConfig = PLAN_MODEL) -> MemorizationResult:
    """`run_memorization` in PyTorch eager: same data, initial weights, batch order and step (needs torch)."""
    from . import torch_ref

    patterns = list(MEMORIZATION_PATTERNS)
    tokenizer = CharTokenizer()
    tokenizer.build_vocab(patterns)
    data = padded_patterns(tokenizer, patterns, model_config.block_size)
    inputs, targets = torch_ref.tensor(data[:, :-1]), torch_ref.tensor(data[:, 1:])
    rng = manual_seed(seed)  # the same generator run_memorization draws its weights and batch order from
    model = torch_ref.TorchGPT(GPT(replace(model_config, vocab_size=tokenizer.vocab_size)))
    step = torch_ref.make_train_step(model, train)
    losses = []
    start = time.perf_counter()
    batches = pattern_batches(inputs, targets, train.batch_size, rng)
    for _, (batch_inputs, batch_targets) in zip(range(train.max_iters), batches):
        losses.append(step(batch_inputs, batch_targets))
    nan = float("nan")
    return MemorizationResult(seed, train, losses, nan, nan, time.perf_counter() - start, 0, 0, tokenizer.vocab_size)


def _steps(result: MemorizationResult, threshold: float) -> float:
    reached = result.steps_to(threshold)
    return math.inf if reached is None else float(reached)


def steps_to_loss(train: TrainConfig = PLAN_TRAIN, seeds=SEEDS, threshold: float = 0.1,
                  compare_torch: bool = True, threads: int = 1, name: str = "plan") -> Figure:
    """Median over `seeds` of the steps to a loss below `threshold` (inf where a run never got there);
    `name` labels the training settings in the figure."""
    samples = {"tinytorch": []}
    want_torch = compare_torch and torch_or_none() is not None
    if want_torch:
        samples["torch"] = []
    with thread_limit(threads):
        for seed in seeds:
            samples["tinytorch"].append(_steps(run_memorization(seed, train), threshold))
            if want_torch:
                samples["torch"].append(_steps(torch_memorization(seed, train), threshold))
    theirs = median(samples["torch"]) if want_torch else None
    per_seed = "; ".join(f"{k} {[int(s) if s != math.inf else None for s in v]}" for k, v in samples.items())
    return Figure(f"steps to loss {threshold} ({name} recipe)", "steps", median(samples["tinytorch"]), theirs,
                  higher_is_better=False, samples=samples,
                  notes=f"median of seeds {list(seeds)}: {per_seed}; lr {train.learning_rate}, batch {train.batch_size}")
