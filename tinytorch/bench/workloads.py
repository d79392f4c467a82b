"""The benchmarked workloads: model sizes, data and training steps, built the same way for every measurement."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..nn.losses import CrossEntropyLoss
from ..optim.optimizers import Adam
from ..core.random import manual_seed
from ..text.tokenization import CharTokenizer
from ..training.trainer import Trainer
from ..nn.config import GPTConfig
from ..nn.transformer import GPT
from ..text.corpus import MEMORIZATION_PATTERNS
from ..experiments.memorization import padded_patterns
from ..experiments.recipes import PLAN_RECIPE


@dataclass(frozen=True)
class Workload:
    """A GPT size, its batch shape and the training recipe (Adam, element-wise clipping) used for it."""

    name: str
    vocab_size: int
    embed_dim: int
    num_layers: int
    num_heads: int
    seq_len: int  # tokens per sequence fed to the model
    batch_size: int
    max_seq_len: int
    lr: float = PLAN_RECIPE.lr
    clip_value: float | None = PLAN_RECIPE.clip_value

    @property
    def tokens_per_step(self) -> int:
        return self.seq_len * self.batch_size

    def describe(self) -> str:
        return (f"{self.num_layers} layer(s), {self.embed_dim} dim, {self.num_heads} heads, vocab {self.vocab_size}, "
                f"batch {self.batch_size}, seq {self.seq_len}")


def _plan_vocab_size() -> int:
    tokenizer = CharTokenizer()
    tokenizer.build_vocab(MEMORIZATION_PATTERNS)
    return tokenizer.vocab_size


# The plan's memorization setup (layer 2.1 and 4.1): one pattern of 63 input tokens per step.
TINY = Workload("tiny", _plan_vocab_size(), PLAN_RECIPE.embed_dim, PLAN_RECIPE.num_layers, PLAN_RECIPE.num_heads,
                seq_len=PLAN_RECIPE.max_seq_len - 1, batch_size=PLAN_RECIPE.batch_size, max_seq_len=PLAN_RECIPE.max_seq_len)
# A character-level model the size of a Shakespeare demo.
MEDIUM = Workload("medium", 65, 128, 4, 4, seq_len=128, batch_size=16, max_seq_len=128)
# Generation: the medium model, 256 new tokens after a 16-token prompt (greedy).
GENERATION = Workload("generation", 65, 128, 4, 4, seq_len=16, batch_size=1, max_seq_len=512)
GENERATION_NEW_TOKENS = 256


def tiny_batch() -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets), each (1, 63): the first memorization pattern padded to 64, shifted by one."""
    tokenizer = CharTokenizer()
    tokenizer.build_vocab(MEMORIZATION_PATTERNS)
    data = padded_patterns(tokenizer, MEMORIZATION_PATTERNS, PLAN_RECIPE.max_seq_len)
    return data[:1, :-1], data[:1, 1:]


def random_batch(work: Workload, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets) of shape (batch, seq) drawn uniformly from the vocabulary."""
    ids = np.random.default_rng(seed).integers(0, work.vocab_size, (work.batch_size, work.seq_len + 1))
    return ids[:, :-1], ids[:, 1:]


def batch_for(work: Workload) -> tuple[np.ndarray, np.ndarray]:
    return tiny_batch() if work is TINY else random_batch(work)


def build_model(work: Workload, seed: int = 0) -> GPT:
    manual_seed(seed)
    return GPT(GPTConfig.from_settings(work, work.vocab_size))


def build_trainer(model: GPT, work: Workload) -> Trainer:
    """The recipe's step: Adam, mean cross-entropy, element-wise gradient clipping."""
    return Trainer(model, Adam(model.parameters(), lr=work.lr), CrossEntropyLoss(), grad_clip_value=work.clip_value)


def tinytorch_step(work: Workload, seed: int = 0):
    """A zero-argument callable running one training step of `work` in tinytorch."""
    trainer = build_trainer(build_model(work, seed), work)
    inputs, targets = batch_for(work)
    return lambda: trainer.train_step(inputs, targets)


def torch_step(work: Workload, seed: int = 0, fused_adam: bool = False):
    """The same step in PyTorch eager, starting from the same weights (needs torch)."""
    from . import torch_ref

    model = torch_ref.TorchGPT(build_model(work, seed))
    step = torch_ref.make_train_step(model, work.lr, work.clip_value, fused_adam=fused_adam)
    inputs, targets = (torch_ref.tensor(a) for a in batch_for(work))
    return lambda: step(inputs, targets)
