"""Train a character-level GPT on code snippets: the shared engine of the pattern, generalization
and copilot experiments.

Each snippet is one example starting at position 0, followed by one end token (id 0) that the
model learns to predict; the padding after it is ignored by the loss.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..core.autograd import no_grad
from ..training.callbacks import EveryEval, EveryStep
from ..data.dataloader import DataLoader, PaddedSequenceDataset
from ..nn.losses import CrossEntropyLoss
from ..optim.optimizers import AdamW
from ..core.random import manual_seed
from ..optim.schedule import CosineSchedule
from ..text.tokenization import CharTokenizer
from ..training.trainer import Trainer
from ..nn.config import GPTConfig
from ..nn.transformer import GPT

PAD = 0
IGNORE = -100  # targets at padding positions


@dataclass(frozen=True)
class CodeModelConfig:
    """Model and optimisation settings for a snippet model."""

    embed_dim: int = 64
    num_layers: int = 2
    num_heads: int = 4
    max_seq_len: int = 64
    batch_size: int = 16
    steps: int = 600
    lr: float = 3e-3
    min_lr: float = 3e-4
    warmup_steps: int = 30
    weight_decay: float = 0.01
    dropout: float = 0.0
    clip_norm: float = 1.0


@dataclass
class CodeModelRun:
    """A trained snippet model with its tokenizer, the loss history and the wall time."""

    model: GPT
    tokenizer: CharTokenizer
    trainer: Trainer
    config: CodeModelConfig
    train_losses: list = field(repr=False)
    evals: list = field(default_factory=list)  # (step, train loss, held-out loss)
    seconds: float = 0.0


def snippet_dataset(tokenizer: CharTokenizer, snippets: list[str], seq_len: int) -> PaddedSequenceDataset:
    """Each snippet followed by one end token (id 0, a real target), then padding the loss ignores."""
    encoded = [tokenizer.encode(s) + [PAD] for s in snippets]
    return PaddedSequenceDataset(encoded, seq_len, pad_id=PAD, target_pad_id=IGNORE)


def dataset_loss(model: GPT, dataset: PaddedSequenceDataset) -> float:
    """Mean next-token loss over every non-padding position of the dataset."""
    with no_grad():
        was_training = model.training
        model.eval()
        loss = CrossEntropyLoss(ignore_index=IGNORE)(model(dataset.inputs), dataset.targets)
        model.train(was_training)
    return float(loss.data)


def build_model(tokenizer: CharTokenizer, config: CodeModelConfig) -> tuple[GPT, Trainer]:
    model = GPT(GPTConfig.from_settings(config, tokenizer.vocab_size))
    optimizer = AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = CosineSchedule(max_lr=config.lr, min_lr=config.min_lr, total_steps=config.steps,
                              warmup_steps=config.warmup_steps)
    trainer = Trainer(model, optimizer, CrossEntropyLoss(ignore_index=IGNORE), schedule=schedule,
                      grad_clip_norm=config.clip_norm)
    return model, trainer


def progress_callbacks(progress) -> list:
    """`progress(step, loss)` after every optimizer step, as `Trainer.fit` callbacks (none without it)."""
    if progress is None:
        return []

    def report(trainer) -> None:
        progress(trainer.step, trainer.last_loss)

    return [EveryStep(report)]


def train_code_model(train_snippets: list[str], config: CodeModelConfig = CodeModelConfig(), seed: int = 0,
                     held_out: list[str] | None = None, eval_every: int = 50, vocab_texts: list[str] | None = None,
                     progress=None) -> CodeModelRun:
    """Train a fresh model on `train_snippets`; evaluate train and held-out loss every `eval_every` steps.

    `progress(step, loss)` is called after every step (e.g. to update a progress bar).
    """
    if not train_snippets:
        raise ValueError("train_code_model: no training snippets")
    manual_seed(seed)
    tokenizer = CharTokenizer()
    tokenizer.build_vocab(list(train_snippets) + list(vocab_texts or []))
    seq_len = config.max_seq_len
    train_set = snippet_dataset(tokenizer, train_snippets, seq_len)
    held_set = snippet_dataset(tokenizer, held_out, seq_len) if held_out else None
    model, trainer = build_model(tokenizer, config)
    loader = DataLoader(train_set, batch_size=min(config.batch_size, len(train_set)), shuffle=True, drop_last=True)
    run = CodeModelRun(model, tokenizer, trainer, config, train_losses=trainer.history["train_loss"])
    callbacks = progress_callbacks(progress)
    val_loader = None
    if held_set is not None:  # the held-out loss from the loop, the training-set loss next to it
        val_loader = [(held_set.inputs, held_set.targets)]
        callbacks.append(EveryEval(lambda t, held: run.evals.append((t.step, dataset_loss(model, train_set), held))))
    start = time.perf_counter()
    trainer.fit(loader, steps=config.steps, val_loader=val_loader, eval_every=eval_every, callbacks=callbacks)
    run.seconds = time.perf_counter() - start
    return run
