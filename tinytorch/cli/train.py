"""`tinytorch train`: train a GPT on a text file, with validation, atomic checkpoints and a loss-curve PNG."""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
import warnings

import numpy as np

from . import UserError
from .common import (CHECKPOINT_KIND, SIZES, ModelSize, finite_float, make_tokenizer, model_config_of,
                     non_negative_int, positive_int, read_checkpoint_header, read_text,
                     split_tokens, tokenizer_of, unknown_chars)

VAL_WINDOWS = 64  # validation windows evaluated each time (non-overlapping, from the held-out 10%)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a GPT on your text file",
                              description="Train a GPT on a text file: 90%% of it trains, the last 10%% validates.")
    p.add_argument("--data", required=True, metavar="FILE.txt", help="UTF-8 text to train on")
    p.add_argument("--tokenizer", choices=("char", "bpe"), default=None, help="char (default) or byte-level BPE")
    p.add_argument("--size", choices=tuple(SIZES), default=None, help="model size (default tiny)")
    p.add_argument("--steps", type=positive_int, default=None, help="total optimizer steps (default per size)")
    p.add_argument("--out", metavar="CKPT", default=None, help="checkpoint path (default <data>-<size>.safetensors)")
    p.add_argument("--resume", metavar="CKPT", default=None, help="continue a checkpoint of tinytorch train (to --steps in all; the schedule stretches to it)")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--lr", type=finite_float, default=None, help="peak learning rate (default per size)")
    p.add_argument("--batch-size", type=positive_int, default=None)
    p.add_argument("--eval-every", type=positive_int, default=None, help="validate and checkpoint every N steps")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _settings(args, meta):
    """(ModelSize, size name, tokenizer kind) from the flags, or from the checkpoint when resuming."""
    if meta is None:
        name = args.size or "tiny"
        return _override(SIZES[name], args), name, args.tokenizer or "char"
    train = (meta.get("config") or {}).get("train") or {}
    try:
        size = ModelSize(**train["size"])
    except (KeyError, TypeError):
        raise UserError(f"'{args.resume}' has no readable training settings") from None
    for flag, given, stored in (("--size", args.size, train.get("size_name")),
                                ("--tokenizer", args.tokenizer, train.get("tokenizer"))):
        if given is not None and given != stored:
            raise UserError(f"'{args.resume}' was trained with {flag} {stored}, not {given}; drop {flag} to resume")
    return _override(size, args), train.get("size_name"), train.get("tokenizer")


def _override(size: ModelSize, args) -> ModelSize:
    """`size` with the learning rate, batch size and step count the user gave."""
    changes = {"lr": args.lr, "batch_size": args.batch_size, "steps": args.steps}
    return dataclasses.replace(size, **{k: v for k, v in changes.items() if v is not None})


def _val_loss(model, val_set, batch_size: int) -> float:
    from ..core.autograd import no_grad
    from ..core.losses import CrossEntropyLoss

    n = min(len(val_set), VAL_WINDOWS)
    idx = np.linspace(0, len(val_set) - 1, n).astype(np.int64)
    total = 0.0
    was_training = model.training
    model.eval()
    with no_grad():
        for start in range(0, n, batch_size):
            inputs, targets = val_set.get_batch(idx[start:start + batch_size])
            total += float(CrossEntropyLoss()(model(inputs), targets).data) * len(inputs.data)
    model.train(was_training)
    return total / n


def run(args) -> int:
    from ..core.checkpoint import load_checkpoint
    from ..core.dataloader import TokenWindowDataset
    from ..core.losses import CrossEntropyLoss
    from ..core.optimizers import AdamW
    from ..core.random import get_rng, manual_seed
    from ..core.schedule import CosineSchedule
    from ..core.training import NonFiniteLossError, Trainer
    from ..core.transformer import GPT
    from ..report.plots import save_loss_curve

    if args.lr is not None and not 0 < args.lr < 1:
        raise UserError(f"--lr must be in (0, 1), got {args.lr}")
    text = read_text(args.data)
    meta = None
    if args.resume:
        meta = read_checkpoint_header(args.resume)
        if (meta.get("config") or {}).get("kind") != CHECKPOINT_KIND:
            raise UserError(f"'{args.resume}' is not a checkpoint of tinytorch train; cannot resume it")
    size, size_name, kind = _settings(args, meta)
    out = args.out or args.resume or f"{os.path.splitext(os.path.basename(args.data))[0]}-{size_name}.safetensors"
    if os.path.isdir(out):
        raise UserError(f"--out '{out}' is a directory; give a file path such as {os.path.join(out, 'model.safetensors')}")

    tokenizer = tokenizer_of(meta, args.resume) if meta else make_tokenizer(kind, text, size)
    unknown = unknown_chars(tokenizer, text)
    if unknown:
        raise UserError(f"'{args.data}' has {len(unknown)} characters the checkpoint's tokenizer never saw "
                        f"({unknown[:20]!r}); resume with the text it was trained on")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ids = tokenizer.encode(text)
    train_ids, val_ids, window = split_tokens(ids, size.seq_len)

    manual_seed(args.seed)
    if meta:
        kwargs = model_config_of(meta, args.resume, tokenizer.vocab_size)
        window = min(window, kwargs["max_seq_len"])
        try:
            model = GPT(**kwargs)
        except (TypeError, ValueError) as exc:
            raise UserError(f"'{args.resume}' describes no buildable model: {exc}") from None
    else:
        model = GPT(tokenizer.vocab_size, size.embed_dim, size.num_layers, size.num_heads, window, dropout=size.dropout)
    optimizer = AdamW(model.parameters(), lr=size.lr, weight_decay=0.01)
    schedule = CosineSchedule(max_lr=size.lr, min_lr=size.lr / 10, total_steps=size.steps,
                              warmup_steps=min(50, size.steps // 10))
    trainer = Trainer(model, optimizer, CrossEntropyLoss(), schedule=schedule, grad_clip_norm=1.0)
    if meta:
        try:  # the schedule is rebuilt for the new --steps; weights, moments, RNG and counters come back
            load_checkpoint(args.resume, model, optimizer)
            trainer.load_state_dict((meta.get("extra") or {}).get("trainer"))
        except (TypeError, ValueError) as exc:
            raise UserError(f"'{args.resume}' is incompatible: {exc}") from None
        if trainer.step >= size.steps:
            raise UserError(f"'{args.resume}' is already at step {trainer.step}; pass --steps larger than that")

    train_set = TokenWindowDataset(np.asarray(train_ids), window)
    val_set = TokenWindowDataset(np.asarray(val_ids), window, stride=max(1, window // 2))
    eval_every = args.eval_every or max(1, size.steps // 10)
    config = {"kind": CHECKPOINT_KIND, "model": model.config.to_dict(),
              "train": {"size": size.to_dict(), "size_name": size_name, "tokenizer": kind, "seq_len": window,
                        "data": os.path.basename(args.data), "seed": args.seed}}
    history = trainer.history
    n_params = sum(p.data.size for p in model.parameters())
    if meta:
        print(f"resuming '{args.resume}' at step {trainer.step} of {size.steps}", flush=True)
    print(f"training a {size_name} GPT ({n_params:,} weights, {size.num_layers} layer(s), embed {size.embed_dim}) on "
          f"'{args.data}': {len(train_ids):,} train / {len(val_ids):,} validation tokens, {kind} tokenizer "
          f"({tokenizer.vocab_size} symbols), windows of {window}, ln(V) = {math.log(tokenizer.vocab_size):.3f}",
          flush=True)

    def checkpoint(val_loss: float | None) -> None:
        trainer.save_checkpoint(out, config=config, tokenizer=tokenizer, extra={"val_loss": val_loss})

    from tqdm import tqdm

    bar = tqdm(total=size.steps, initial=trainer.step, unit="step", disable=args.no_progress or None,
               dynamic_ncols=True, mininterval=0.5)
    rng = get_rng()
    tokens_per_step = size.batch_size * window
    start, first_step = time.perf_counter(), trainer.step
    val_loss = None
    try:
        while trainer.step < size.steps:
            inputs, targets = train_set.get_batch(rng.integers(0, len(train_set), size.batch_size))
            loss = trainer.train_step(inputs.data, targets.data)
            history["train_loss"].append(loss)
            history["learning_rates"].append(float(optimizer.lr))
            rate = tokens_per_step * (trainer.step - first_step) / max(time.perf_counter() - start, 1e-9)
            bar.set_postfix(loss=f"{loss:.3f}", val="-" if val_loss is None else f"{val_loss:.3f}",
                            tok_s=f"{rate:,.0f}", refresh=False)
            bar.update(1)
            if trainer.step % eval_every == 0 or trainer.step == size.steps:
                val_loss = _val_loss(model, val_set, size.batch_size)
                history["val_loss"].append(val_loss)
                history["val_step"].append(trainer.step)
                checkpoint(val_loss)
    except NonFiniteLossError as exc:
        bar.close()
        print(f"tinytorch train: training diverged: {exc}; try a lower --lr", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        bar.close()
        checkpoint(val_loss)
        print(f"interrupted at step {trainer.step}; checkpoint saved to {out} (continue with --resume {out})")
        return 130
    bar.close()
    seconds = time.perf_counter() - start
    png = save_loss_curve(f"{os.path.splitext(out)[0]}.loss.png", history["train_loss"], history["val_step"],
                          history["val_loss"], title=f"tinytorch train: {os.path.basename(args.data)} ({size_name})")
    recent = float(np.mean(history["train_loss"][-20:]))
    rate = tokens_per_step * (trainer.step - first_step) / max(seconds, 1e-9)
    print(f"step {trainer.step}: train loss {recent:.3f} (mean of last 20), validation loss {val_loss:.3f}; "
          f"{seconds:.1f}s, {rate:,.0f} tokens/s")
    print(f"checkpoint: {out}")
    print(f"loss curve: {png}")
    return 0
