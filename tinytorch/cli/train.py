"""`tinytorch train`: train a GPT on a text file, with validation, checkpoints (last and best) and a loss log.

`run` is four steps: build (settings, output files, tokenizer, data, model), resume (a checkpoint's
state), loop (`Trainer.fit` with callbacks) and report (summary and loss plot).
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np

from . import UserError
from .common import (CHECKPOINT_KIND, SIZES, ModelSize, finite_float, make_tokenizer, model_config_of,
                     non_negative_int, positive_int, read_checkpoint_once, read_text,
                     split_tokens, tokenizer_of, unknown_chars)
from .memory_estimate import check_fits
from .train_files import RescuingSaver, TrainFiles, check_outputs, default_checkpoint, reason, warn

VAL_WINDOWS = 64  # validation windows evaluated each time (non-overlapping, from the held-out 10%)
# nanoGPT-style overrides on top of --size: (option, ModelSize field, GPTConfig field)
SHAPE_FLAGS = (("--n-layer", "num_layers", "num_layers"), ("--n-head", "num_heads", "num_heads"),
               ("--n-embd", "embed_dim", "embed_dim"), ("--block-size", "seq_len", "max_seq_len"),
               ("--dropout", "dropout", "dropout"))


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a GPT on your text file",
                              description="Train a GPT on a text file: 90% of it trains, the last 10% validates.")
    p.add_argument("--data", required=True, metavar="FILE.txt", help="UTF-8 text to train on")
    p.add_argument("--tokenizer", choices=("char", "bpe"), default=None, help="char (default) or byte-level BPE")
    sizes = "; ".join(f"{name}: {size.num_layers} block(s) {size.embed_dim} wide, {size.steps} steps"
                      for name, size in SIZES.items())
    p.add_argument("--size", choices=tuple(SIZES), default=None, help=f"model size (default tiny): {sizes}")
    p.add_argument("--n-layer", type=positive_int, default=None, metavar="N", help="blocks (default per size)")
    p.add_argument("--n-head", type=positive_int, default=None, metavar="N",
                   help="attention heads; must divide --n-embd")
    p.add_argument("--n-embd", type=positive_int, default=None, metavar="N", help="width (default per size)")
    p.add_argument("--block-size", type=positive_int, default=None, metavar="N",
                   help="context length in tokens (default per size)")
    p.add_argument("--dropout", type=finite_float, default=None, metavar="P",
                   help="dropout in [0, 1) (default per size)")
    p.add_argument("--steps", type=positive_int, default=None, help="total optimizer steps (default per size)")
    p.add_argument("--out", metavar="CKPT", default=None,
                   help="checkpoint path (default <data>-<size>[-bpe].safetensors); the best one goes to CKPT-best")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out checkpoint")
    p.add_argument("--resume", metavar="CKPT", default=None,
                   help="continue a checkpoint of tinytorch train (to --steps in all; the schedule stretches to it)")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--lr", type=finite_float, default=None, help="peak learning rate (default per size)")
    p.add_argument("--batch-size", type=positive_int, default=None)
    p.add_argument("--eval-every", type=positive_int, default=None,
                   help="validate, log and checkpoint every N steps (default steps / 10)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (there is none unless stdout is a terminal)")
    p.set_defaults(func=run)


@dataclass
class TrainRun:
    """Everything one `tinytorch train` run needs, built before the first step."""

    args: object
    size: ModelSize
    size_name: str
    kind: str  # tokenizer kind
    files: TrainFiles
    meta: dict | None  # the --resume checkpoint's metadata
    arrays: dict | None  # and its tensors, from the same read
    tokenizer: object = None
    model: object = None
    trainer: object = None
    train_set: object = None
    val_set: object = None
    window: int = 0
    config: dict | None = None  # the checkpoint's config block


# ----- build -------------------------------------------------------------------------------------
def _given(args, flag: str):
    """The value of option `flag` ('--n-layer') in `args`, None when not given."""
    return getattr(args, flag[2:].replace("-", "_"))


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
    given = [("--size", args.size, train.get("size_name")), ("--tokenizer", args.tokenizer, train.get("tokenizer"))]
    given += [(flag, _given(args, flag), getattr(size, field)) for flag, field, _ in SHAPE_FLAGS]
    for flag, value, stored in given:
        if value is not None and value != stored:
            raise UserError(f"'{args.resume}' was trained with {flag} {stored}, not {value}; drop {flag} to resume")
    return _override(size, args), train.get("size_name"), train.get("tokenizer")


def _override(size: ModelSize, args) -> ModelSize:
    """`size` with the shape, learning rate, batch size and step count the user gave."""
    changes = {"lr": args.lr, "batch_size": args.batch_size, "steps": args.steps}
    changes.update({field: _given(args, flag) for flag, field, _ in SHAPE_FLAGS})
    return dataclasses.replace(size, **{k: v for k, v in changes.items() if v is not None})


def _gpt_config(size: ModelSize, vocab_size: int, window: int, args):
    """The GPTConfig of `size`; a shape the flags made invalid is a one-line UserError naming them."""
    from ..core.config import GPTConfig

    try:
        return GPTConfig.from_settings(size, vocab_size, max_seq_len=window)
    except (TypeError, ValueError) as exc:
        flags = ", ".join(f"{flag} sets {gpt}" for flag, _, gpt in SHAPE_FLAGS
                          if _given(args, flag) is not None)
        raise UserError(f"{str(exc).replace('GPTConfig: ', '')} ({flags or 'the --size settings'})") from None


def build(args) -> TrainRun:
    """Check every setting and output path, then make the tokenizer, data and a fresh model and trainer."""
    from ..core.dataloader import TokenWindowDataset
    from ..core.losses import CrossEntropyLoss
    from ..core.optimizers import AdamW
    from ..core.random import manual_seed
    from ..core.schedule import CosineSchedule
    from ..core.training import Trainer
    from ..core.transformer import GPT

    if args.lr is not None and not 0 < args.lr < 1:
        raise UserError(f"--lr must be in (0, 1), got {args.lr}")
    meta = arrays = None
    if args.resume:
        meta, arrays = read_checkpoint_once(args.resume)  # one read: settings, tokenizer and tensors
        if (meta.get("config") or {}).get("kind") != CHECKPOINT_KIND:
            raise UserError(f"'{args.resume}' is not a checkpoint of tinytorch train; cannot resume it")
    size, size_name, kind = _settings(args, meta)
    _gpt_config(size, 1, size.seq_len, args)  # a bad shape fails now, before the text is tokenized
    files = TrainFiles.next_to(args.out or args.resume or default_checkpoint(args.data, size_name, kind))
    check_outputs(files, args.data, args.resume, args.overwrite)
    text = read_text(args.data)
    run = TrainRun(args, size, size_name, kind, files, meta, arrays)
    run.tokenizer = tokenizer_of(meta, args.resume) if meta else make_tokenizer(kind, text, size)
    unknown = unknown_chars(run.tokenizer, text)
    if unknown:
        raise UserError(f"'{args.data}' has {len(unknown)} characters the checkpoint's tokenizer never saw "
                        f"({unknown[:20]!r}); resume with the text it was trained on")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ids = run.tokenizer.encode(text)
    train_ids, val_ids, window = split_tokens(ids, size.seq_len)

    manual_seed(args.seed)
    if meta:
        kwargs = model_config_of(meta, args.resume, run.tokenizer.vocab_size)
        window = min(window, kwargs["max_seq_len"])
        run.model = GPT(**kwargs)
    else:
        config = _gpt_config(size, run.tokenizer.vocab_size, window, args)
        check_fits(config, size.batch_size, window, "--n-embd, --n-layer, --block-size or --batch-size")
        run.model = GPT(config)
    optimizer = AdamW(run.model.parameters(), lr=size.lr, weight_decay=0.01)
    schedule = CosineSchedule(max_lr=size.lr, min_lr=size.lr / 10, total_steps=size.steps,
                              warmup_steps=min(50, size.steps // 10))
    run.trainer = Trainer(run.model, optimizer, CrossEntropyLoss(), schedule=schedule, grad_clip_norm=1.0)
    run.window = window
    run.train_set = TokenWindowDataset(np.asarray(train_ids), window)
    run.val_set = TokenWindowDataset(np.asarray(val_ids), window, stride=max(1, window // 2))
    run.config = {"kind": CHECKPOINT_KIND, "model": run.model.config.to_dict(),
                  "train": {"size": size.to_dict(), "size_name": size_name, "tokenizer": kind, "seq_len": window,
                            "data": os.path.basename(args.data), "seed": args.seed}}
    return run


# ----- resume ------------------------------------------------------------------------------------
def resume(run: TrainRun) -> None:
    """Weights, moments, RNG and counters from --resume; the schedule is rebuilt for the new --steps."""
    from ..core.checkpoint import restore_checkpoint

    path = run.args.resume
    try:
        restore_checkpoint(path, run.meta, run.arrays, run.model, run.trainer.optimizer)
        run.arrays = None  # the weights live in the model now
        run.trainer.load_state_dict((run.meta.get("extra") or {}).get("trainer"))
    except (TypeError, ValueError) as exc:
        raise UserError(f"'{path}' is incompatible: {exc}") from None
    if run.trainer.step >= run.size.steps:
        raise UserError(f"'{path}' is already at step {run.trainer.step}; pass --steps larger than that")
    print(f"resuming '{path}' at step {run.trainer.step} of {run.size.steps}", flush=True)


# ----- loop --------------------------------------------------------------------------------------
def random_windows(train_set, batch_size: int):
    """Endless batches of random training windows, drawn from tinytorch's generator at each step."""
    from ..core.random import get_rng

    rng = get_rng()
    while True:
        inputs, targets = train_set.get_batch(rng.integers(0, len(train_set), batch_size))
        yield inputs.data, targets.data


def validation_batches(val_set, batch_size: int) -> list:
    """Up to VAL_WINDOWS evenly spread validation windows, in batches: the same ones at every evaluation."""
    n = min(len(val_set), VAL_WINDOWS)
    idx = np.linspace(0, len(val_set) - 1, n).astype(np.int64)
    return [tuple(t.data for t in val_set.get_batch(idx[i:i + batch_size])) for i in range(0, n, batch_size)]


def callbacks(run: TrainRun, saver) -> list:
    """Checkpoints (last and best), the loss log, the per-evaluation line and, on a terminal, the bar."""
    from ..core.callbacks import Checkpoints, EvalLines, LossLog, ProgressBar

    bar = ProgressBar(run.size.steps, disable=run.args.no_progress or not sys.stdout.isatty())
    lines = EvalLines(run.size.steps, run.size.batch_size * run.window, write=bar.write)
    log = LossLog(run.files.log, on_error=lambda exc: warn(reason(exc, run.files.log)))
    return [Checkpoints(saver, run.files.last, run.files.best), log, lines, bar]


def loop(run: TrainRun, saver) -> None:
    """Train to --steps in all, evaluating every --eval-every steps and after the last one."""
    size, trainer = run.size, run.trainer
    eval_every = run.args.eval_every or max(1, size.steps // 10)
    trainer.fit(random_windows(run.train_set, size.batch_size), steps=size.steps - trainer.step,
                val_loader=validation_batches(run.val_set, size.batch_size), eval_every=eval_every,
                callbacks=callbacks(run, saver))


# ----- report ------------------------------------------------------------------------------------
def write_plot(run: TrainRun) -> str | None:
    """The loss curve PNG next to the checkpoint; None (with a warning) when it cannot be written."""
    from ..report.plots import save_loss_curve

    history = run.trainer.history
    try:
        return save_loss_curve(run.files.plot, history["train_loss"], history["val_step"], history["val_loss"],
                               title=f"tinytorch train: {os.path.basename(run.args.data)} ({run.size_name})")
    except OSError as exc:
        warn(reason(exc, run.files.plot))
        return None


def report(run: TrainRun, saver, seconds: float, first_step: int) -> int:
    """Summary lines; exit 1 when the final checkpoint had to go to a fallback file."""
    history, trainer = run.trainer.history, run.trainer
    png = write_plot(run)
    recent = float(np.mean(history["train_loss"][-20:]))
    rate = run.size.batch_size * run.window * (trainer.step - first_step) / max(seconds, 1e-9)
    best = min(zip(history["val_loss"], history["val_step"]))
    print(f"step {trainer.step}: train loss {recent:.3f} (mean of last 20), "
          f"validation loss {history['val_loss'][-1]:.3f} "
          f"(best {best[0]:.3f} at step {best[1]}); {seconds:.1f}s, {rate:,.0f} tokens/s")
    for what, path in (("checkpoint", run.files.last), ("best checkpoint", run.files.best)):
        if path in saver.rescued or os.path.exists(path):  # a resumed run saves a best only when it beats it
            print(f"{what}: {saved_where(saver, path)}")
    print(f"loss log: {run.files.log}")
    if png:
        print(f"loss curve: {png}")
    return 1 if run.files.last in saver.rescued else 0


def saved_where(saver, path: str) -> str:
    """Where the weights meant for `path` are: the path itself, its fallback file, or nowhere."""
    where = saver.rescued.get(path, path)
    return where if where else "not saved (see the message above)"


def interrupted_message(run: TrainRun, saver, exc: BaseException) -> str:
    """What an interrupted run left, saying only what is true: a checkpoint is named only if it exists."""
    from ..core.interrupts import Terminated

    trainer, files = run.trainer, run.files
    what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
    if files.last in saver.saved or saver.rescued.get(files.last):
        where = saved_where(saver, files.last)
        if trainer.history["train_loss"]:
            write_plot(run)
        return (f"{what} at step {trainer.step}; checkpoint: {where}, loss log {files.log} (continue with: "
                f"tinytorch train --data {run.args.data} --resume {where} --steps {run.size.steps})")
    if run.args.resume:
        return (f"{what} at step {trainer.step}; nothing new was saved, '{run.args.resume}' is unchanged "
                f"(continue with: tinytorch train --data {run.args.data} --resume {run.args.resume} "
                f"--steps {run.size.steps})")
    return f"{what} before the first checkpoint was written; nothing was saved"


def describe(run: TrainRun) -> str:
    model, tokenizer = run.model, run.tokenizer
    n_params = sum(p.data.size for p in model.parameters())
    return (f"training a {run.size_name} GPT ({n_params:,} weights, {model.num_layers} layer(s), embed "
            f"{model.embed_dim}) on '{run.args.data}': {len(run.train_set.tokens):,} train / "
            f"{len(run.val_set.tokens):,} validation tokens, {run.kind} tokenizer ({tokenizer.vocab_size} symbols), "
            f"windows of {run.window}, ln(V) = {math.log(tokenizer.vocab_size):.3f}")


def _memory_hint(run: TrainRun) -> str:
    s = run.size
    return (f"out of memory: a batch of --batch-size {s.batch_size} windows of {run.window} tokens does not fit "
            f"(with --n-embd {s.embed_dim}, --n-layer {s.num_layers}); lower --batch-size")


def run(args) -> int:
    from .output_lock import OutputLock
    from .train_files import TrainFiles

    out = args.out or args.resume or default_checkpoint(args.data, args.size or "tiny", args.tokenizer or "char")
    with OutputLock(TrainFiles.next_to(out).last, "train"):  # a second run with the same --out is refused
        return _run(args)


def _run(args) -> int:
    from ..core.interrupts import Terminated
    from ..core.training import NonFiniteLossError

    try:
        train_run = build(args)
        if train_run.meta:
            resume(train_run)
    except MemoryError:
        warn("out of memory preparing the model: lower --n-embd, --n-layer or --block-size (or use a smaller text)")
        return 1
    print(describe(train_run), flush=True)
    trainer = train_run.trainer
    saver = RescuingSaver(lambda path, val_loss: trainer.save_checkpoint(
        path, config=train_run.config, tokenizer=train_run.tokenizer, extra={"val_loss": val_loss}))
    start, first_step = time.perf_counter(), trainer.step
    try:
        loop(train_run, saver)
    except NonFiniteLossError as exc:
        warn(f"training diverged: {exc}; try a lower --lr")
        return 1
    except MemoryError:
        warn(_memory_hint(train_run))
        return 1
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (interrupts.Terminated): the same rescue
        print(interrupted_message(train_run, saver, exc), flush=True)
        return 143 if isinstance(exc, Terminated) else 130
    return report(train_run, saver, time.perf_counter() - start, first_step)
