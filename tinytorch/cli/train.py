"""`tinytorch train`: train a GPT on a text file, with validation, checkpoints (last and best) and a loss log.

`run` is four steps: build (settings, output files, tokenizer, data, model), resume (a checkpoint's
state), loop (`Trainer.fit` with callbacks) and report (summary, loss plot and the command that samples).
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from ..nn.config import GPTConfig
from ..training.config import TrainConfig
from .errors import UserError
from ..data.sources import corpus_name
from .common import CHECKPOINT_KIND, model_config_of, non_negative_int, positive_int, read_checkpoint_once, tokenizer_of
from .memory_estimate import check_fits
from .output_lock import OutputLock
from .train_data import load_corpus, text_source
from .train_files import RescuingSaver, TrainFiles, check_outputs, reason, warn
from .train_settings import (MODEL_OPTIONS, NANOGPT_HINTS, PRESETS, TRAIN_OPTIONS, add_options, flag_of,
                             fresh_settings, given, legacy_train_config, preset_for, replaced, run_name)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a GPT on your text file",
                              description="Train a GPT on a text file: 90% of it trains, the last 10% validates. "
                                          "nanoGPT's option names work (--n_layer=4, --max_iters 2000, ...).")
    p.add_argument("--data", nargs="+", metavar="TEXT", default=None,
                   help="UTF-8 text to train on: files, folders or globs, joined in sorted order with a blank line "
                        "between files; tokenized once into NAME.tokens beside the checkpoint (default with --resume: "
                        "the text the checkpoint was trained on)")
    p.add_argument("--vocab-size-cap", type=positive_int, default=None, metavar="N",
                   help="char tokenizer: keep the N - 1 most frequent characters, the rest read <UNK> (default: no cap)")
    p.add_argument("--min-char-count", type=positive_int, default=1, metavar="N",
                   help="char tokenizer: characters seen fewer than N times read <UNK> (default 1)")
    p.add_argument("--tokenizer", choices=("char", "bpe"), default=None, help="char or byte-level BPE (default char)")
    add_options(p)
    p.add_argument("--out", metavar="CKPT", default=None,
                   help="checkpoint path (default runs/<text>-L<layers>-E<width>-H<heads>-T<context>-<tokenizer>"
                        ".safetensors, numbered when taken); the best one goes to CKPT-best")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out checkpoint (default: refuse)")
    p.add_argument("--resume", metavar="CKPT", default=None,
                   help="continue a checkpoint of tinytorch train (to --max-iters in all; the schedule stretches "
                        "to it) (default: a fresh model)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (default: a bar when stdout is a terminal)")
    p.set_defaults(func=run)
    p.spelling_hints = NANOGPT_HINTS


@dataclass
class TrainRun:
    """Everything one `tinytorch train` run needs, built before the first step."""

    args: object
    model_config: GPTConfig  # the shape asked for (block_size may shrink to the text's window)
    train: TrainConfig
    preset: str
    kind: str  # tokenizer kind
    data: object  # the text: data.sources.TextSource
    files: TrainFiles
    meta: dict | None  # the --resume checkpoint's metadata
    arrays: dict | None  # and its tensors, from the same read
    lock: object  # output_lock.OutputLock on the checkpoint path, held until the run ends
    tokenizer: object = None
    model: object = None
    trainer: object = None
    train_set: object = None
    val_set: object = None
    window: int = 0
    chars_per_token: float = 1.0
    config: dict | None = None  # the checkpoint's config block
    corpus: object = None  # train_data.Corpus: the token cache and its split


# ----- build -------------------------------------------------------------------------------------
def _stored(meta: dict) -> dict:
    return (meta.get("config") or {}).get("train") or {}


def _resume_settings(args, meta, model_config: GPTConfig) -> tuple[TrainConfig, str, str]:
    """(TrainConfig, preset, tokenizer kind) a checkpoint trained with, with the user's training options on top;
    a shape option that differs from the checkpoint's is a UserError."""
    train = _stored(meta)
    try:
        settings = (TrainConfig.from_dict(train["settings"], source=args.resume) if "settings" in train
                    else legacy_train_config(train["size"]))
    except (KeyError, TypeError, ValueError):
        raise UserError(f"'{args.resume}' has no readable training settings") from None
    preset = train.get("preset", train.get("size_name"))
    checks = [("--preset", args.preset, preset), ("--tokenizer", args.tokenizer, train.get("tokenizer"))]
    checks += [(flag_of(f), v, getattr(model_config, f)) for f, v in given(args, MODEL_OPTIONS).items()]
    for flag, value, stored in checks:
        if value is not None and value != stored:
            raise UserError(f"'{args.resume}' was trained with {flag} {stored}, not {value}; drop {flag} to resume")
    return replaced(settings, given(args, TRAIN_OPTIONS)), preset, train.get("tokenizer")


def _data_specs(args, meta) -> list:
    """--data, or the files a checkpoint was trained on (their recorded paths, or those names beside it)."""
    if args.data:
        return args.data
    if meta is None:
        raise UserError("the following arguments are required: --data (or --resume CKPT)")
    recorded = _stored(meta).get("data")
    recorded = [recorded] if isinstance(recorded, str) else list(recorded or [])
    found = []
    for path in recorded:
        beside = os.path.join(os.path.dirname(args.resume), os.path.basename(path))
        found += [p for p in (path, beside) if os.path.isfile(p)][:1]
    if recorded and len(found) == len(recorded):
        print(f"training text: {', '.join(repr(p) for p in found)} (recorded in the checkpoint)", flush=True)
        return found
    raise UserError(f"'{args.resume}' was trained on {recorded}, which is not there any more; give --data FILE")


def _note_changed_text(meta: dict, fingerprint) -> None:
    train = _stored(meta)
    if "data_sha256" in train and train["data_sha256"] != fingerprint.sha256:
        print(f"note: the text changed since the checkpoint was written ({train.get('data_chars', '?'):,} "
              f"characters then, {fingerprint.chars:,} now); training goes on with the text as it is now", flush=True)


def _check_fits(config: GPTConfig, train: TrainConfig) -> None:
    """UserError naming the estimate and the free memory when this model cannot train here."""
    check_fits(config, train.batch_size, config.block_size, "--n-embd, --n-layer, --block-size or --batch-size")


def build(args) -> TrainRun:
    """Check every setting and output path, take the output's lock, then make the tokenizer, data, model and trainer."""
    meta = arrays = None
    if args.resume:
        meta, arrays = read_checkpoint_once(args.resume)  # one read: settings, tokenizer and tensors
        if (meta.get("config") or {}).get("kind") != CHECKPOINT_KIND:
            raise UserError(f"'{args.resume}' is not a checkpoint of tinytorch train; cannot resume it")
        if meta.get("optimizer") is None:
            raise UserError(f"'{args.resume}' holds weights for sampling and export only (a -best file); resume from "
                            f"the last checkpoint, {args.resume.replace('-best.safetensors', '.safetensors')}")
    specs = _data_specs(args, meta)
    source = text_source(specs)
    if meta:
        model_config = GPTConfig.from_dict(meta["config"]["model"], source=args.resume)
        train, preset, kind = _resume_settings(args, meta, model_config)
    else:
        preset = args.preset or preset_for(source.size)
        model_config, train = fresh_settings(args, preset)
        kind = args.tokenizer or "char"
        _check_fits(dataclasses.replace(model_config, vocab_size=2), train)  # a lower bound, before tokenizing
    out = args.out or args.resume or run_name(corpus_name(specs), model_config, kind)
    if out != (args.out or args.resume):
        os.makedirs(os.path.dirname(out), exist_ok=True)  # runs/, for the default name
    files = TrainFiles.next_to(out)
    lock = OutputLock(files.last, "train").acquire()  # a second run with the same --out is refused here
    run = TrainRun(args, model_config, train, preset, kind, source, files, meta, arrays, lock)
    try:
        check_outputs(files, source.files, args.resume, args.overwrite)
        return _populate(run)
    except BaseException:
        lock.release()
        raise


def _populate(run: TrainRun) -> TrainRun:
    """The tokenized text, the model and its trainer of a run whose settings and outputs are checked."""
    from ..data.dataloader import TokenWindowDataset
    from ..nn.losses import CrossEntropyLoss
    from ..core.random import manual_seed
    from ..nn.transformer import GPT

    args, meta, source, kind, model_config, train = run.args, run.meta, run.data, run.kind, run.model_config, run.train
    corpus = load_corpus(source, args, run.files.last, kind, PRESETS[run.preset].bpe_vocab, model_config.block_size,
                         tokenizer_of(meta, args.resume) if meta else None, progress=not args.no_progress)
    if meta:
        _note_changed_text(meta, corpus.fingerprint)
    run.tokenizer, run.corpus = corpus.tokenizer, corpus
    train_ids, val_ids, window = corpus.train_ids, corpus.val_ids, corpus.window
    run.chars_per_token = corpus.fingerprint.chars / (len(train_ids) + len(val_ids))

    manual_seed(args.seed)
    if meta:
        kwargs = model_config_of(meta, args.resume, run.tokenizer.vocab_size)
        run.model = GPT(GPTConfig.from_dict(kwargs))
        window = min(window, run.model.config.block_size)
    else:
        config = dataclasses.replace(model_config, vocab_size=run.tokenizer.vocab_size, block_size=window)
        _check_fits(config, train)
        run.model = GPT(config)
    run.trainer = train.make_trainer(run.model, CrossEntropyLoss())
    run.window = window
    run.train_set = TokenWindowDataset(train_ids, window)  # memmap views: batches are read, not the whole stream
    run.val_set = TokenWindowDataset(val_ids, window, stride=max(1, window // 2))
    run.config = {"kind": CHECKPOINT_KIND, "model": run.model.config.to_dict(),
                  "train": {"settings": train.to_dict(), "preset": run.preset, "tokenizer": kind, "block_size": window,
                            "data": [os.path.abspath(f) for f in source.files],
                            "data_chars": corpus.fingerprint.chars, "data_sha256": corpus.fingerprint.sha256,
                            "chars_per_token": run.chars_per_token, "seed": args.seed}}
    return run


# ----- resume ------------------------------------------------------------------------------------
def resume(run: TrainRun) -> None:
    """Weights, moments, RNG and counters from --resume; the schedule is rebuilt for the new --max-iters."""
    from ..training.checkpoint import restore_checkpoint

    path = run.args.resume
    try:
        restore_checkpoint(path, run.meta, run.arrays, run.model, run.trainer.optimizer)
        run.arrays = None  # the weights live in the model now
        run.trainer.load_state_dict((run.meta.get("extra") or {}).get("trainer"))
    except (TypeError, ValueError) as exc:
        raise UserError(f"'{path}' is incompatible: {exc}") from None
    step, total = run.trainer.step, run.train.max_iters
    if step >= total:
        raise UserError(f"'{path}' is already at step {step}; pass --max-iters larger than that")
    print(f"resuming '{path}' at step {step} of {total}", flush=True)
    before = _resume_settings_before(run)
    if before is not None:
        old, new = _lr_at(before, step), _lr_at(run.train, step)
        if not math.isclose(old, new, rel_tol=1e-6):
            print(f"note: the new settings change the learning rate at step {step} from {old:.2e} to {new:.2e} "
                  f"(the schedule now runs to step {total})", flush=True)


def _resume_settings_before(run: TrainRun) -> TrainConfig | None:
    train = _stored(run.meta)
    try:
        return (TrainConfig.from_dict(train["settings"]) if "settings" in train
                else legacy_train_config(train["size"]))
    except (KeyError, TypeError, ValueError):
        return None


def _lr_at(train: TrainConfig, step: int) -> float:
    schedule = train.make_schedule()
    return train.learning_rate if schedule is None else schedule(step)


# ----- loop --------------------------------------------------------------------------------------
def random_windows(train_set, batch_size: int):
    """Endless batches of random training windows, drawn from tinytorch's generator at each step."""
    from ..core.random import get_rng

    rng = get_rng()
    while True:
        inputs, targets = train_set.get_batch(rng.integers(0, len(train_set), batch_size))
        yield inputs.data, targets.data


def validation_batches(val_set, batch_size: int, batches: int) -> list:
    """`batches` batches of evenly spread validation windows (fewer when the text is short): the same ones at
    every evaluation, so the curve moves only with the model."""
    n = min(len(val_set), batches * batch_size)
    idx = np.linspace(0, len(val_set) - 1, n).astype(np.int64)
    return [tuple(t.data for t in val_set.get_batch(idx[i:i + batch_size])) for i in range(0, n, batch_size)]


def callbacks(run: TrainRun, saver, stats) -> list:
    """Checkpoints (last and best), the loss log, the per-evaluation line and, on a terminal, the bar."""
    from ..training.callbacks import Checkpoints, EvalLines, LossLog, ProgressBar, earlier_times

    total = run.train.max_iters
    bar = ProgressBar(total, disable=run.args.no_progress or not sys.stdout.isatty(), stats=stats)
    lines = EvalLines(total, run.train.batch_size * run.window, write=bar.write, stats=stats)
    earlier = {s: t for s, t in earlier_times(run.files.log).items() if s <= run.trainer.step} if run.meta else {}
    log = LossLog(run.files.log, on_error=lambda exc: warn(reason(exc, run.files.log)), stats=stats, earlier=earlier)
    return [stats, Checkpoints(saver, run.files.last, run.files.best), log, lines, bar]


def loop(run: TrainRun, saver, stats) -> None:
    """Train to --max-iters in all, evaluating every --eval-interval steps and after the last one."""
    train, trainer = run.train, run.trainer
    trainer.fit(random_windows(run.train_set, train.batch_size), steps=train.max_iters - trainer.step,
                val_loader=validation_batches(run.val_set, train.batch_size, train.eval_iters),
                eval_every=train.every, callbacks=callbacks(run, saver, stats))


def saver_for(run: TrainRun, stats) -> RescuingSaver:
    """Saves the last checkpoint with everything a resume needs, the best one with what sampling and export
    need (weights, config, tokenizer: a third of the size, no optimizer moments)."""
    from ..training.checkpoint import save_checkpoint

    trainer = run.trainer

    def save(path: str, val_loss) -> None:
        extra = {"val_loss": val_loss, "seconds": stats.total_seconds()}
        if path == run.files.best:
            save_checkpoint(path, run.model, step=trainer.step, config=run.config, tokenizer=run.tokenizer, extra=extra)
        else:
            trainer.save_checkpoint(path, config=run.config, tokenizer=run.tokenizer, extra=extra)

    return RescuingSaver(save)


# ----- report ------------------------------------------------------------------------------------
def write_plot(run: TrainRun) -> str | None:
    """The loss curve PNG next to the checkpoint; None (with a warning) when it cannot be written."""
    from ..report.plots import save_loss_curve

    history = run.trainer.history
    try:
        return save_loss_curve(run.files.plot, history["train_loss"], history["val_step"], history["val_loss"],
                               title=f"tinytorch train: {corpus_name(run.data.files)} ({describe_shape(run.model)})")
    except OSError as exc:
        warn(reason(exc, run.files.plot))
        return None


def report(run: TrainRun, saver, stats, first_step: int) -> int:
    """Summary lines and the command that samples; exit 1 when the final checkpoint went to a fallback file."""
    history, trainer = run.trainer.history, run.trainer
    png = write_plot(run)
    seconds = stats.session_seconds()
    rate = run.train.batch_size * run.window * (trainer.step - first_step) / max(seconds, 1e-9)
    best = min(zip(history["val_loss"], history["val_step"]))
    train = stats.train_loss
    val = history["val_loss"][-1]
    print(f"step {trainer.step}: train loss {train:.3f} ({stats.bpc(train):.3f} bpc, mean since the previous "
          f"evaluation), validation loss {val:.3f} ({stats.bpc(val):.3f} bpc; best {best[0]:.3f} = "
          f"{stats.bpc(best[0]):.3f} bpc at step {best[1]}); {seconds:.1f}s, {rate:,.0f} tokens/s")
    for what, path in (("checkpoint", run.files.last), ("best checkpoint", run.files.best)):
        if path in saver.rescued or os.path.exists(path):  # a resumed run saves a best only when it beats it
            print(f"{what}: {saved_where(saver, path)}")
    print(f"loss log: {run.files.log}")
    if png:
        print(f"loss curve: {png}")
    best_file = saved_where(saver, run.files.best) if os.path.exists(run.files.best) else None
    if best_file and not best_file.startswith("not saved"):
        print(f"sample from it: tinytorch generate {_quoted(best_file)} --prompt '' --max-new-tokens 500")
    return 1 if run.files.last in saver.rescued else 0


def _quoted(path: str) -> str:
    import shlex

    return shlex.quote(path)


def saved_where(saver, path: str) -> str:
    """Where the weights meant for `path` are: the path itself, its fallback file, or nowhere."""
    where = saver.rescued.get(path, path)
    return where if where else "not saved (see the message above)"


def describe_shape(model) -> str:
    c = model.config
    return f"{c.n_layer} layer(s), {c.n_head} heads, {c.n_embd} wide"


def interrupted_message(run: TrainRun, saver, exc: BaseException) -> str:
    """What an interrupted run left, saying only what is true: a checkpoint is named only if it exists."""
    from ..training.interrupts import Terminated

    trainer, files = run.trainer, run.files
    what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
    if files.last in saver.saved or saver.rescued.get(files.last):
        where = saved_where(saver, files.last)
        if trainer.history["train_loss"]:
            write_plot(run)
        return (f"{what} at step {trainer.step}; checkpoint: {where}, loss log {files.log} (continue with: "
                f"tinytorch train --resume {where} --max-iters {run.train.max_iters})")
    if run.args.resume:
        return (f"{what} at step {trainer.step}; nothing new was saved, '{run.args.resume}' is unchanged "
                f"(continue with: tinytorch train --resume {run.args.resume} --max-iters {run.train.max_iters})")
    return f"{what} before the first checkpoint was written; nothing was saved"


def describe(run: TrainRun) -> str:
    model, tokenizer, t = run.model, run.tokenizer, run.train
    n_params = sum(p.data.size for p in model.parameters())
    return (f"training a GPT of {n_params:,} weights ({describe_shape(model)}, context {run.window}; preset "
            f"{run.preset}) on '{run.data.describe()}': {len(run.train_set.tokens):,} train / {len(run.val_set.tokens):,} "
            f"validation tokens, {run.kind} tokenizer ({tokenizer.vocab_size} symbols, ln(V) = "
            f"{math.log(tokenizer.vocab_size):.3f}); {t.max_iters} iters of batch {t.batch_size}, lr "
            f"{t.learning_rate:g} -> {t.min_lr:g}, warmup {t.warmup_iters}, weight decay {t.weight_decay:g}, "
            f"betas ({t.beta1:g}, {t.beta2:g}), clip {t.grad_clip:g}")


def _memory_hint(run: TrainRun) -> str:
    c = run.model.config
    return (f"out of memory: a batch of --batch-size {run.train.batch_size} windows of {run.window} tokens does not "
            f"fit (with --n-embd {c.n_embd}, --n-layer {c.n_layer}); lower --batch-size")


def run(args) -> int:
    try:
        train_run = build(args)
    except MemoryError:
        warn("out of memory preparing the model: lower --n-embd, --n-layer or --block-size (or use a smaller text)")
        return 1
    try:
        if train_run.meta:
            resume(train_run)
        return _train(train_run)
    finally:
        train_run.lock.release()


def _train(train_run: TrainRun) -> int:
    """The loop and its report; the exit code (0, or 1 diverged / out of memory, 130 Ctrl-C, 143 SIGTERM)."""
    from ..training.interrupts import Terminated
    from ..training.trainer import NonFiniteLossError
    from ..training.callbacks import RunStats

    print(describe(train_run), flush=True)
    trainer = train_run.trainer
    seconds_before = float((train_run.meta or {}).get("extra", {}).get("seconds", 0.0) or 0.0) if train_run.meta else 0.0
    stats = RunStats(train_run.chars_per_token, seconds_before)
    saver = saver_for(train_run, stats)
    first_step = trainer.step
    try:
        loop(train_run, saver, stats)
    except NonFiniteLossError as exc:
        warn(f"training diverged: {exc}; try a lower --learning-rate")
        return 1
    except MemoryError:
        warn(_memory_hint(train_run))
        return 1
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (interrupts.Terminated): the same rescue
        print(interrupted_message(train_run, saver, exc), flush=True)
        return 143 if isinstance(exc, Terminated) else 130
    return report(train_run, saver, stats, first_step)
