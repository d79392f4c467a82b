"""nanoGPT's CPU recipe trained by tinytorch and by PyTorch eager: same text, batches and initial weights.

The recipe (nanoGPT's README, "I only have a macbook"): char-level, embed 128, 4 layers, 4 heads,
block 64, batch 12, AdamW (betas 0.9/0.99, weight decay 0.1 on 2-D weights only), gradient-norm
clip 1.0, lr 1e-3 with 100 warm-up steps then cosine to 1e-4. The text is the standard-library
source of the running Python (its Lib/*.py files in name order, the first --chars characters).
Both sides are plain user loops through the public API: model(x), loss.backward(), clipping,
optimizer.step(). Steps alternate between the two sides so load from other processes hits both.
`--recipe medium` runs the medium benchmark's step instead (block 128, batch 16, Adam, clip +-1).

Run from the repository root: python benchmarks/bench_nanogpt_cpu.py [--steps N] [--threads T] [--no-torch]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import sysconfig
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinytorch  # noqa: E402
from tinytorch.bench.common import machine_notes, thread_limit, threads_note, torch_or_none  # noqa: E402
from tinytorch.bench.workloads import MEDIUM  # noqa: E402
from tinytorch.cli.train_settings import PRESETS  # noqa: E402
from tinytorch.runtime.allocator import keep_freed_memory  # noqa: E402
from tinytorch.training.config import TrainConfig  # noqa: E402


# (model shape, training settings): the CLI's nanogpt preset (nanoGPT's shakespeare_char CPU recipe) and the
# medium benchmark's workload (Adam, element-wise clipping, constant rate). The vocabulary comes from the text.
RECIPES = {
    "nanogpt": (PRESETS["nanogpt"].model, PRESETS["nanogpt"].train),
    "medium": (MEDIUM.model, MEDIUM.train),
}


def stdlib_text(max_chars: int) -> str:
    """The running Python's Lib/*.py sources in name order, concatenated, cut at `max_chars` characters."""
    parts, size = [], 0
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        parts.append(text)
        size += len(text)
        if size >= max_chars:
            break
    return "".join(parts)[:max_chars]


def batch_at(data: np.ndarray, rng: np.random.Generator, block_size: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """nanoGPT's get_batch: `batch_size` random windows of `block_size` tokens and their next tokens."""
    starts = rng.integers(0, len(data) - block_size - 1, batch_size)
    x = np.stack([data[i : i + block_size] for i in starts])
    y = np.stack([data[i + 1 : i + 1 + block_size] for i in starts])
    return x, y


def decayed(names_and_params):
    """nanoGPT's split: 2-D weights (matmuls, embeddings) decay; biases and LayerNorm parameters do not."""
    params = [p for _, p in names_and_params]
    return [p for p in params if len(p.shape) >= 2], [p for p in params if len(p.shape) < 2]


class OursLoop:
    """The recipe written as a tinytorch user would: model(x), loss.backward(), clip, optimizer.step()."""

    def __init__(self, model, train: TrainConfig):
        self.model, self.clip_norm, self.clip_value = model, train.grad_clip or None, train.grad_clip_value or None
        self.loss_fn = tinytorch.CrossEntropyLoss()
        self.params = list(model.parameters())
        betas = (train.beta1, train.beta2)
        if train.optimizer == "adamw":
            decay, rest = decayed(model.named_parameters())
            self.optimizers = [tinytorch.AdamW(decay, lr=train.learning_rate, betas=betas, weight_decay=train.weight_decay),
                               tinytorch.AdamW(rest, lr=train.learning_rate, betas=betas, weight_decay=0.0)]
        else:
            self.optimizers = [tinytorch.Adam(self.params, lr=train.learning_rate, betas=betas)]

    def step(self, x: np.ndarray, y: np.ndarray, lr: float) -> float:
        for opt in self.optimizers:
            opt.zero_grad()
            opt.lr = lr
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        if self.clip_norm is not None:
            tinytorch.clip_grad_norm(self.params, self.clip_norm)
        if self.clip_value is not None:
            for p in self.params:
                np.clip(p.grad, -self.clip_value, self.clip_value, out=p.grad)
        for opt in self.optimizers:
            opt.step()
        return loss.item()

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        with tinytorch.no_grad():
            return self.loss_fn(self.model(x), y).item()


class TorchLoop:
    """The same loop in PyTorch eager on a copy of the initial weights (tinytorch.bench.torch_ref.TorchGPT)."""

    def __init__(self, model, train: TrainConfig):
        import torch

        from tinytorch.bench.torch_ref import TorchGPT

        self.torch, self.clip_norm, self.clip_value = torch, train.grad_clip or None, train.grad_clip_value or None
        self.model = TorchGPT(model)
        self.params = list(self.model.parameters())
        betas = (train.beta1, train.beta2)
        if train.optimizer == "adamw":
            decay, rest = decayed(self.model.named_parameters())
            groups = [{"params": decay, "weight_decay": train.weight_decay}, {"params": rest, "weight_decay": 0.0}]
            self.optimizer = torch.optim.AdamW(groups, lr=train.learning_rate, betas=betas)
        else:
            self.optimizer = torch.optim.Adam(self.params, lr=train.learning_rate, betas=betas)

    def _loss(self, x: np.ndarray, y: np.ndarray):
        logits = self.model(self.torch.from_numpy(x))
        return self.torch.nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), self.torch.from_numpy(y).view(-1))

    def step(self, x: np.ndarray, y: np.ndarray, lr: float) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        loss = self._loss(x, y)
        loss.backward()
        if self.clip_norm is not None:
            self.torch.nn.utils.clip_grad_norm_(self.params, self.clip_norm)
        if self.clip_value is not None:
            self.torch.nn.utils.clip_grad_value_(self.params, self.clip_value)
        self.optimizer.step()
        return loss.item()

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        with self.torch.no_grad():
            return self._loss(x, y).item()


def lr_schedule(train: TrainConfig, steps: int):
    """step -> lr: the settings' schedule over `steps` (warm-up, then cosine to min_lr), or constant."""
    if not train.decay_lr:
        return lambda step: train.learning_rate
    return replace(train, warmup_iters=min(train.warmup_iters, steps)).make_schedule(steps)


def run(args) -> int:
    shape, train_cfg = RECIPES[args.recipe]
    text = stdlib_text(args.chars)
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    data = np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))  # char-level ids
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    tinytorch.manual_seed(args.seed)
    model = tinytorch.GPT(replace(shape, vocab_size=len(vocab)))
    loops = {"tinytorch": OursLoop(model, train_cfg)}
    if not args.no_torch and torch_or_none() is not None:
        loops["torch"] = TorchLoop(model, train_cfg)  # copies the initial weights before any step
    for line in machine_notes():
        print(line)
    print(f"recipe {args.recipe}: {model.config}, {train_cfg}; text: {len(text):,} chars of {sysconfig.get_paths()['stdlib']}/*.py, "
          f"vocab {len(vocab)}; {args.steps} steps, {args.threads} thread(s) asked")
    rng = np.random.default_rng(args.seed)
    val_rng = np.random.default_rng(args.seed + 1)
    val_batches = [batch_at(val, val_rng, shape.block_size, train_cfg.batch_size) for _ in range(args.eval_batches)]
    lr_at = lr_schedule(train_cfg, args.steps)
    seconds = {name: [] for name in loops}
    losses = {name: 0.0 for name in loops}
    with thread_limit(args.threads):
        for step in range(args.steps):
            x, y = batch_at(train, rng, shape.block_size, train_cfg.batch_size)
            order = list(loops) if step % 2 == 0 else list(reversed(loops))  # alternate who goes first
            for name in order:
                start = time.perf_counter()
                losses[name] = loops[name].step(x, y, lr_at(step))
                seconds[name].append(time.perf_counter() - start)
            if args.log_every and (step + 1) % args.log_every == 0:
                print(f"step {step + 1}: " + ", ".join(f"{n} loss {v:.4f}" for n, v in losses.items()), flush=True)
        val_loss = {name: statistics.fmean(loop.loss(x, y) for x, y in val_batches) for name, loop in loops.items()}
        print(threads_note(False, "torch" in loops))  # read back from threadpoolctl and torch, not the label
    skip = min(args.warmup_steps, args.steps - 1)  # the first steps allocate and warm caches
    per_step = {name: statistics.median(s[skip:]) for name, s in seconds.items()}
    for name in loops:
        print(f"{name}: {per_step[name] * 1e3:.2f} ms/step (median of steps {skip + 1}..{args.steps}), "
              f"{train_cfg.batch_size * shape.block_size / per_step[name]:,.0f} tokens/s, "
              f"validation loss {val_loss[name]:.4f} ({args.eval_batches} batches), last train loss {losses[name]:.4f}")
    if "torch" in loops:
        print(f"time per step ours/torch {per_step['tinytorch'] / per_step['torch']:.2f} (lower is better); "
              f"validation loss ours - torch {val_loss['tinytorch'] - val_loss['torch']:+.4f}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="nanogpt")
    parser.add_argument("--steps", type=int, default=600, help="training steps (default 600: a few minutes for both)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--chars", type=int, default=1_000_000, help="characters of standard-library source used")
    parser.add_argument("--eval-batches", type=int, default=20, help="validation batches after training (nanoGPT: 20)")
    parser.add_argument("--warmup-steps", type=int, default=10, help="first steps left out of the timing median")
    parser.add_argument("--log-every", type=int, default=100, help="print both training losses every N steps (0: never)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-torch", action="store_true", help="train tinytorch only")
    args = parser.parse_args(argv)
    for name in ("steps", "threads", "chars", "eval_batches"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    return run(args)


if __name__ == "__main__":
    keep_freed_memory()  # this script owns its process (tinytorch/core/allocator.py)
    sys.exit(main())
