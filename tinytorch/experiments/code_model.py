"""Train a character-level GPT on code snippets: the shared engine of the pattern, generalization
and copilot experiments.

Each snippet is one example starting at position 0, followed by one end token (id 0) that the
model learns to predict; the padding after it is ignored by the loss.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from ..core.autograd import no_grad
from ..training.callbacks import EveryEval, EveryStep
from ..data.dataloader import DataLoader, PaddedSequenceDataset
from ..nn.losses import CrossEntropyLoss
from ..core.random import manual_seed
from ..text.tokenization import CharTokenizer
from ..training.config import TrainConfig
from ..training.trainer import Trainer
from ..nn.config import GPTConfig
from ..nn.transformer import GPT

PAD = 0
IGNORE = -100  # targets at padding positions


# A snippet model's shape and training: AdamW with PyTorch's betas on every parameter, warmup then cosine
# decay, global-norm clipping. Each experiment replaces a few fields.
CODE_MODEL = GPTConfig(n_embd=64, n_layer=2, n_head=4, block_size=64, dropout=0.0)
CODE_TRAIN = TrainConfig(batch_size=16, max_iters=600, learning_rate=3e-3, min_lr=3e-4, warmup_iters=30,
                         optimizer="adamw", weight_decay=0.01, weight_decay_on="all", beta2=0.999, grad_clip=1.0)


def with_steps(train: TrainConfig, steps: int | None) -> TrainConfig:
    """`train` with another step count (unchanged for None); warmup is capped at half the steps."""
    if steps is None or steps == train.max_iters:
        return train
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    return replace(train, max_iters=int(steps), warmup_iters=min(train.warmup_iters, int(steps) // 2))


@dataclass
class CodeModelRun:
    """A trained snippet model with its tokenizer, the loss history and the wall time."""

    model: GPT
    tokenizer: CharTokenizer
    trainer: Trainer
    train: TrainConfig
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


def build_model(tokenizer: CharTokenizer, model_config: GPTConfig, train: TrainConfig) -> tuple[GPT, Trainer]:
    """A fresh GPT of `model_config`'s shape over the tokenizer's vocabulary, and its Trainer."""
    model = GPT(replace(model_config, vocab_size=tokenizer.vocab_size))
    return model, train.make_trainer(model, CrossEntropyLoss(ignore_index=IGNORE))


def progress_callbacks(progress) -> list:
    """`progress(step, loss)` after every optimizer step, as `Trainer.fit` callbacks (none without it)."""
    if progress is None:
        return []

    def report(trainer) -> None:
        progress(trainer.step, trainer.last_loss)

    return [EveryStep(report)]


def train_code_model(train_snippets: list[str], model_config: GPTConfig = CODE_MODEL, train: TrainConfig = CODE_TRAIN,
                     seed: int = 0, held_out: list[str] | None = None, eval_every: int = 50,
                     vocab_texts: list[str] | None = None, progress=None) -> CodeModelRun:
    """Train a fresh model on `train_snippets`; evaluate train and held-out loss every `eval_every` steps.

    `progress(step, loss)` is called after every step (e.g. to update a progress bar).
    """
    if not train_snippets:
        raise ValueError("train_code_model: no training snippets")
    manual_seed(seed)
    tokenizer = CharTokenizer()
    tokenizer.build_vocab(list(train_snippets) + list(vocab_texts or []))
    seq_len = model_config.block_size
    train_set = snippet_dataset(tokenizer, train_snippets, seq_len)
    held_set = snippet_dataset(tokenizer, held_out, seq_len) if held_out else None
    model, trainer = build_model(tokenizer, model_config, train)
    loader = DataLoader(train_set, batch_size=min(train.batch_size, len(train_set)), shuffle=True, drop_last=True)
    run = CodeModelRun(model, tokenizer, trainer, train, train_losses=trainer.history["train_loss"])
    callbacks = progress_callbacks(progress)
    val_loader = None
    if held_set is not None:  # the held-out loss from the loop, the training-set loss next to it
        val_loader = [(held_set.inputs, held_set.targets)]
        callbacks.append(EveryEval(lambda t, held: run.evals.append((t.step, dataset_loss(model, train_set), held))))
    start = time.perf_counter()
    trainer.fit(loader, steps=train.max_iters, val_loader=val_loader, eval_every=eval_every, callbacks=callbacks)
    run.seconds = time.perf_counter() - start
    return run
