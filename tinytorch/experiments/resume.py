"""The test plan's layer 5.2: a run interrupted by a checkpoint continues exactly as if never stopped.

Batches are drawn from tinytorch's generator, whose state the checkpoint carries, so the resumed
losses must equal the uninterrupted ones bit for bit (dropout is on, so its draws are checked too).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field, replace

import numpy as np

from ..core.random import manual_seed
from ..nn.config import GPTConfig
from ..training.config import TrainConfig
from .code_model import CODE_MODEL, CODE_TRAIN
from .copilot import continue_training, copilot_train, load_copilot, new_copilot, save_copilot

# Small and quick; dropout makes the restored RNG state matter for the forward pass as well.
RESUME_MODEL = replace(CODE_MODEL, n_embd=32, block_size=48, dropout=0.1)
RESUME_TRAIN = replace(CODE_TRAIN, batch_size=8, max_iters=60, learning_rate=5e-3, min_lr=5e-4, warmup_iters=10)


@dataclass
class ResumeResult:
    identical: bool  # second-half losses and final weights equal bit for bit
    max_abs_diff: float  # largest |uninterrupted - resumed| over second-half losses and final weights
    uninterrupted_losses: list = field(repr=False)  # batch losses, all steps
    resumed_losses: list = field(repr=False)  # batch losses after the checkpoint
    continued_decreasing: bool = False  # training-set loss fell after resuming, and the batch losses trend down
    checkpoint_step: int = 0
    checkpoint_loss: float = 0.0  # training-set loss of the restored model
    final_loss: float = 0.0  # training-set loss after the resumed half


def _trend_down(losses: list, window: int) -> bool:
    window = max(1, min(window, len(losses) // 2))
    return float(np.mean(losses[-window:])) < float(np.mean(losses[:window]))


def run_resume(seed: int = 0, steps: int = 60, train: TrainConfig = RESUME_TRAIN, restore_rng: bool = True,
               model_config: GPTConfig = RESUME_MODEL) -> ResumeResult:
    """Train `steps` steps straight; separately train steps // 2, checkpoint, rebuild from the file, finish.

    `restore_rng=False` reseeds the generator after loading, as if the checkpoint had no RNG state:
    a control showing that the comparison can fail.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise ValueError(f"run_resume: steps must be an int >= 2, got {steps!r}")
    train = copilot_train(steps, train)  # both runs share one schedule of `steps` steps
    half = steps // 2
    straight = continue_training(new_copilot(seed, train, model_config), steps)

    first = continue_training(new_copilot(seed, train, model_config), half)
    with tempfile.TemporaryDirectory(prefix="tinytorch-resume-") as folder:
        path = save_copilot(first, os.path.join(folder, "half.safetensors"))
        del first
        manual_seed(seed + 1)  # scramble the generator: only the checkpoint may restore it
        resumed = load_copilot(path)
    if not restore_rng:
        manual_seed(seed + 1)
    checkpoint_step, checkpoint_loss = resumed.trainer.step, resumed.final_loss
    continue_training(resumed, steps - half)

    expected = np.asarray(straight.train_losses[half:])
    got = np.asarray(resumed.train_losses)
    weights_a = dict(straight.model.named_parameters())
    weights_b = dict(resumed.model.named_parameters())
    same_shapes = expected.shape == got.shape and weights_a.keys() == weights_b.keys()
    diffs = [float(np.max(np.abs(expected - got)))] if same_shapes and expected.size else [float("inf")]
    if same_shapes:
        diffs += [float(np.max(np.abs(weights_a[k].data - weights_b[k].data))) for k in weights_a]
    identical = same_shapes and np.array_equal(expected, got) and all(
        np.array_equal(weights_a[k].data, weights_b[k].data) for k in weights_a)
    decreasing = resumed.final_loss < checkpoint_loss and _trend_down(resumed.train_losses, 5)
    return ResumeResult(bool(identical), max(diffs), list(straight.train_losses), list(resumed.train_losses),
                        bool(decreasing), checkpoint_step, checkpoint_loss, resumed.final_loss)


__all__ = ["ResumeResult", "run_resume", "RESUME_MODEL", "RESUME_TRAIN"]
