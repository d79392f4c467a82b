"""The benchmarked workloads: model sizes, data and training steps, built the same way for every measurement."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..core.random import manual_seed
from ..text.tokenization import CharTokenizer
from ..training.config import TrainConfig
from ..training.trainer import Trainer
from ..nn.config import GPTConfig
from ..nn.losses import CrossEntropyLoss
from ..nn.transformer import GPT
from ..text.corpus import MEMORIZATION_PATTERNS
from ..experiments.memorization import padded_patterns
from ..experiments.recipes import PLAN_MODEL, PLAN_TRAIN


@dataclass(frozen=True)
class Workload:
    """A named measurement: the model's shape, its training settings (the plan's: Adam, element-wise
    clipping) and the tokens per sequence fed, which may be fewer than the model's block_size."""

    name: str
    model: GPTConfig
    train: TrainConfig = PLAN_TRAIN
    seq_len: int = 0  # 0: the model's block_size

    @property
    def tokens(self) -> int:
        """Tokens per sequence fed to the model."""
        return self.seq_len or self.model.block_size

    @property
    def tokens_per_step(self) -> int:
        return self.tokens * self.train.batch_size

    def describe(self) -> str:
        m = self.model
        return (f"{m.n_layer} layer(s), {m.n_embd} dim, {m.n_head} heads, vocab {m.vocab_size}, "
                f"batch {self.train.batch_size}, seq {self.tokens}")


def _plan_vocab_size() -> int:
    tokenizer = CharTokenizer()
    tokenizer.build_vocab(MEMORIZATION_PATTERNS)
    return tokenizer.vocab_size


# The plan's memorization setup (layer 2.1 and 4.1): one pattern of 63 input tokens per step.
TINY = Workload("tiny", replace(PLAN_MODEL, vocab_size=_plan_vocab_size()), PLAN_TRAIN,
                seq_len=PLAN_MODEL.block_size - 1)
# A character-level model the size of a Shakespeare demo.
MEDIUM = Workload("medium", GPTConfig(vocab_size=65, n_embd=128, n_layer=4, n_head=4, block_size=128),
                  replace(PLAN_TRAIN, batch_size=16))
# Generation: the medium model, 256 new tokens after a 16-token prompt (greedy).
GENERATION = Workload("generation", replace(MEDIUM.model, block_size=512), replace(PLAN_TRAIN, batch_size=1),
                      seq_len=16)
GENERATION_NEW_TOKENS = 256


def context_workload(seq_len: int, tokens_per_step: int) -> Workload:
    """The medium model trained on sequences of `seq_len` tokens, as many per step as make
    `tokens_per_step` (at least one): memory and speed against context length at fixed tokens per step."""
    return Workload(f"context-{seq_len}", replace(MEDIUM.model, block_size=seq_len),
                    replace(MEDIUM.train, batch_size=max(1, tokens_per_step // seq_len)))


def tiny_batch() -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets), each (1, 63): the first memorization pattern padded to 64, shifted by one."""
    tokenizer = CharTokenizer()
    tokenizer.build_vocab(MEMORIZATION_PATTERNS)
    data = padded_patterns(tokenizer, MEMORIZATION_PATTERNS, PLAN_MODEL.block_size)
    return data[:1, :-1], data[:1, 1:]


def random_batch(work: Workload, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets) of shape (batch, seq) drawn uniformly from the vocabulary."""
    ids = np.random.default_rng(seed).integers(0, work.model.vocab_size, (work.train.batch_size, work.tokens + 1))
    return ids[:, :-1], ids[:, 1:]


def batch_for(work: Workload) -> tuple[np.ndarray, np.ndarray]:
    return tiny_batch() if work is TINY else random_batch(work)


def build_model(work: Workload, seed: int = 0) -> GPT:
    manual_seed(seed)
    return GPT(work.model)


def build_trainer(model: GPT, work: Workload) -> Trainer:
    """The workload's step: its optimizer and clipping, mean cross-entropy."""
    return work.train.make_trainer(model, CrossEntropyLoss())


def tinytorch_step(work: Workload, seed: int = 0):
    """A zero-argument callable running one training step of `work` in tinytorch."""
    trainer = build_trainer(build_model(work, seed), work)
    inputs, targets = batch_for(work)
    return lambda: trainer.train_step(inputs, targets)


def torch_step(work: Workload, seed: int = 0, fused_adam: bool = False):
    """The same step in PyTorch eager, starting from the same weights (needs torch)."""
    from . import torch_ref

    model = torch_ref.TorchGPT(build_model(work, seed))
    step = torch_ref.make_train_step(model, work.train, fused_adam=fused_adam)
    inputs, targets = (torch_ref.tensor(a) for a in batch_for(work))
    return lambda: step(inputs, targets)
