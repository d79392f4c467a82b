"""`tinytorch doctor`: the test plan's debugging checklist, measured on a checkpoint or a fresh configuration;
with no arguments, a check of this machine's environment (cli/environment.py).

Each check prints one ✓/✗ line with the value it measured; the exit code is 1 if any check fails.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings

import numpy as np

from .errors import UserError
from .common import load_model, load_pretrained_model, make_tokenizer, read_text, split_tokens
from .train_settings import PRESETS

LR_RANGE = (1e-4, 1e-2)
INITIAL_LOSS_TOLERANCE = 0.3  # |initial loss - ln(V)| for a fresh model
EXPLODING_NORM = 100.0  # a per-parameter gradient norm above this on one batch is exploding
BATCH = 8


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("doctor", help="check this machine, or run the debugging checklist on a checkpoint",
                              description="With no arguments: checks the environment (python, packages, BLAS library, "
                                          "kernel and threads, a training step). With a checkpoint or --config: the "
                                          "automated debugging checklist: gradient flow, initial loss, NaN/Inf, "
                                          "tokenization, target shift, learning rate, architecture.")
    p.add_argument("checkpoint", metavar="CKPT", nargs="?", default=None,
                   help="a checkpoint of tinytorch train, or a Hugging Face GPT-2 folder (as `generate` takes)")
    p.add_argument("--config", choices=tuple(PRESETS), default=None,
                   help="check a fresh model of this preset instead (default: none)")
    p.add_argument("--tokenizer", choices=("char", "bpe"), default="char", help="for --config (default char)")
    p.add_argument("--data", metavar="FILE", default=None, help="text to check with (default: bundled snippets)")
    p.set_defaults(func=run)


class Checklist:
    def __init__(self):
        self.lines: list = []

    def add(self, ok: bool, name: str, measured: str) -> bool:
        self.lines.append((bool(ok), name, measured))
        return bool(ok)

    def print(self) -> None:
        """Every line in the checklist's order (the number leading each name), then the tally."""
        for ok, name, measured in sorted(self.lines, key=lambda line: line[1].split(".")[0]):
            print(f"{'✓' if ok else '✗'} {name}: {measured}")
        passed = len(self.lines) - self.failed
        print(f"\n{passed}/{len(self.lines)} checks passed" + (f"; {self.failed} failed" if self.failed else ""))

    @property
    def failed(self) -> int:
        return sum(not ok for ok, *_ in self.lines)


def _sample_text(args, tokenizer) -> str:
    """The user's --data, else the bundled snippets (else, for a char tokenizer, text from its own vocabulary)."""
    if args.data:
        return read_text(args.data)
    from ..text.corpus import SNIPPETS

    text = "\n\n".join(SNIPPETS)
    lookup = getattr(tokenizer, "char_to_id", None)
    if lookup is not None and any(c not in lookup for c in text):
        chars = [c for c in getattr(tokenizer, "vocab", [])[1:]]
        text = "".join(np.random.default_rng(0).choice(chars, size=2000)) if chars else ""
    return text


def check_gradients(cl: Checklist, model, inputs, targets, loss_fn) -> None:
    """One backward: every parameter must get a finite, non-zero, not exploding gradient."""
    model.zero_grad()
    loss_fn(model(inputs), targets).backward()
    named = list(model.named_parameters())
    missing, zero, nonfinite, exploding, norms = [], [], [], [], {}
    for name, p in named:
        if p.grad is None:
            missing.append(name)
            continue
        if not np.all(np.isfinite(p.grad)):
            nonfinite.append(name)
            continue
        norms[name] = float(np.linalg.norm(p.grad))
        # The key bias is the one parameter with no real gradient: softmax ignores a shift of a query's scores.
        if norms[name] == 0.0 and not name.endswith("k_proj.bias"):
            zero.append(name)
        if norms[name] > EXPLODING_NORM:
            exploding.append(name)
    model.zero_grad()
    good = len(named) - len(missing) - len(zero) - len(nonfinite) - len(exploding)
    biggest = max(norms, key=norms.get) if norms else "-"
    parts = [f"{good}/{len(named)} parameters get finite, non-zero gradients"]
    for label, names in (("none", missing), ("zero", zero), ("NaN/Inf", nonfinite),
                         (f"exploding (norm > {EXPLODING_NORM:g})", exploding)):
        if names:
            parts.append(f"{label}: {', '.join(names[:4])}{' ...' if len(names) > 4 else ''}")
    if norms:
        parts.append(f"largest norm {norms[biggest]:.3g} ({biggest})")
    cl.add(good == len(named), "1. Gradient flow", "; ".join(parts))


def check_losses(cl: Checklist, model, fresh, inputs, targets, loss_fn, vocab: int) -> None:
    from ..core.autograd import no_grad

    ln_v = math.log(vocab)
    with no_grad():
        fresh_logits = fresh(inputs).data
        initial = float(loss_fn(fresh(inputs), targets).data)
        logits = model(inputs).data if model is not fresh else fresh_logits
        current = float(loss_fn(model(inputs), targets).data) if model is not fresh else initial
    cl.add(abs(initial - ln_v) <= INITIAL_LOSS_TOLERANCE, "2. Initial loss",
           f"{initial:.3f} for a fresh model vs ln({vocab}) = {ln_v:.3f} (|diff| {abs(initial - ln_v):.3f}, "
           f"allowed {INITIAL_LOSS_TOLERANCE})")
    if model is not fresh:
        cl.add(math.isfinite(current) and current < ln_v, "2. Trained loss",
               f"{current:.3f} on this text vs ln({vocab}) = {ln_v:.3f} for guessing")
    bad_weights = [n for n, p in model.named_parameters() if not np.all(np.isfinite(p.data))]
    finite_logits = bool(np.all(np.isfinite(logits)))
    measured = (f"weights {'all finite' if not bad_weights else 'NaN/Inf in ' + ', '.join(bad_weights[:4])} "
                f"({len(list(model.parameters()))} tensors); logits {'finite' if finite_logits else 'NaN/Inf'} "
                f"(max |logit| {np.max(np.abs(logits)) if finite_logits else float('nan'):.3g})")
    cl.add(not bad_weights and finite_logits, "2. NaN/Inf", measured)


def check_data(cl: Checklist, tokenizer, text: str, seq_len: int) -> tuple:
    """Round trip, windows and padding; returns the (inputs, targets) batch for the model checks."""
    from ..data.dataloader import PaddedSequenceDataset, TokenWindowDataset

    sample = text[:4000]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ids = tokenizer.encode(sample)
    back = tokenizer.decode(ids)
    first_diff = next((i for i, (a, b) in enumerate(zip(sample, back)) if a != b), min(len(sample), len(back)))
    ok = back == sample
    cl.add(ok, "3. Tokenizer round trip",
           f"decode(encode(text)) == text for {len(sample):,} characters -> {len(ids):,} ids" if ok else
           f"differs at character {first_diff}: {sample[first_diff:first_diff + 12]!r} came back as "
           f"{back[first_diff:first_diff + 12]!r}")

    window = min(seq_len, len(ids) - 1)
    if window < 1:
        raise UserError(f"the text encodes to {len(ids)} token(s): too short to check training windows")
    windows = TokenWindowDataset(np.asarray(ids), window, stride=max(1, window))
    idx = np.arange(min(BATCH, len(windows)))
    inputs, targets = windows.get_batch(idx)
    shifted = int(np.sum(np.all(inputs.data[:, 1:] == targets.data[:, :-1], axis=1)))
    continues = int(np.sum(targets.data[:, -1] == np.asarray(ids)[idx * windows.stride + window]))
    n = len(idx)
    lines = text.split("\n")[:BATCH] or [text]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        encoded = [tokenizer.encode(line) + [0] for line in lines if line]
    padded_ok, pad_note = True, "no short lines to pad"
    if encoded:
        width = max(len(e) for e in encoded) + 2
        padded = PaddedSequenceDataset(encoded, width, pad_id=0, target_pad_id=-100, truncate=True)
        lengths = padded.lengths
        pad_in = all(np.all(padded.inputs[i, lengths[i]:] == 0) for i in range(len(encoded)))
        ignored = all(np.all(padded.targets[i, lengths[i] - 1:] == -100) for i in range(len(encoded)))
        shift = all(np.array_equal(padded.targets[i, : lengths[i] - 1], padded.inputs[i, 1: lengths[i]])
                    for i in range(len(encoded)))
        padded_ok = pad_in and ignored and shift
        pad_note = (f"padding with id 0 after each of {len(encoded)} lines, padded targets ignored (-100): "
                    f"{'yes' if pad_in and ignored else 'NO'}, real targets shifted: {'yes' if shift else 'NO'}")
    cl.add(shifted == n and continues == n and padded_ok, "3. Padding and target shift",
           f"targets == inputs shifted by 1 in {shifted}/{n} windows of {window}; {pad_note}")
    return inputs.data, targets.data, window


def _guarded(cl: Checklist, name: str, check, *args):
    """Run one check; an exception is a failed line naming the error, not a crash of the whole checklist."""
    try:
        return check(*args)
    except UserError:
        raise
    except Exception as exc:
        cl.add(False, name, f"could not run: {type(exc).__name__}: {exc}")
        return None


def run_environment(args) -> int:
    """`tinytorch doctor` alone: the environment checks; exit 1 if a required piece is missing."""
    from .environment import check_environment

    if args.data:
        raise UserError("--data needs a checkpoint (tinytorch doctor CKPT) or --config tiny|small|medium")
    print("tinytorch doctor: this machine's environment (give a checkpoint or --config for the training checklist)")
    cl = Checklist()
    check_environment(cl.add)
    cl.print()
    return 1 if cl.failed else 0


def _from_checkpoint(path: str) -> tuple:
    """(model, tokenizer, learning rate, training window, clip norm, title) of a checkpoint file or a Hugging
    Face folder; the learning rate and clip are None where the file does not record them."""
    if os.path.isdir(path):
        model, tokenizer = load_pretrained_model(path)
        return model, tokenizer, None, model.config.block_size, None, f"the Hugging Face folder '{path}'"
    model, tokenizer, meta = load_model(path, check_vocab=False)
    config = meta.get("config") or {}
    train = config.get("train") or {}
    if "settings" in train:  # tinytorch train
        settings = train["settings"]
        lr, clip, seq_len = settings.get("learning_rate"), settings.get("grad_clip"), train.get("block_size")
    else:  # an older tinytorch train ("size") or an experiment's checkpoint (its config)
        size = train.get("size") or config
        lr, seq_len = size.get("lr"), train.get("seq_len", size.get("max_seq_len"))
        clip = 1.0 if train else size.get("clip_norm")
    seq_len = seq_len or model.config.block_size
    return model, tokenizer, lr, seq_len, clip, f"'{path}' (trained {meta.get('step', 0)} steps)"


def run(args) -> int:
    from ..nn.losses import CrossEntropyLoss
    from ..core.random import manual_seed
    from ..nn.transformer import GPT

    if args.checkpoint is not None and args.config is not None:
        raise UserError("give a checkpoint or --config, not both")
    if args.checkpoint is None and args.config is None:
        return run_environment(args)
    if args.checkpoint:
        model, tokenizer, lr, seq_len, clip, title = _from_checkpoint(args.checkpoint)
    else:
        preset = PRESETS[args.config]
        text = read_text(args.data) if args.data else None
        if text is None:
            from ..text.corpus import SNIPPETS
            text = "\n\n".join(SNIPPETS)
        tokenizer = make_tokenizer(args.tokenizer, text, preset.bpe_vocab)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, _, seq_len = split_tokens(tokenizer.encode(text), preset.model.block_size)
        manual_seed(0)
        model = GPT(dataclasses.replace(preset.model, vocab_size=tokenizer.vocab_size, block_size=seq_len))
        lr, clip = preset.train.learning_rate, preset.train.grad_clip
        title = f"a fresh '{args.config}' model"
    cfg = model.config.to_dict()
    print(f"tinytorch doctor: {title}: vocab {cfg['vocab_size']}, n_embd {cfg['n_embd']}, {cfg['n_layer']} "
          f"layer(s), {cfg['n_head']} heads, block_size {cfg['block_size']}; {type(tokenizer).__name__}")
    cl = Checklist()
    text = _sample_text(args, tokenizer) if args.checkpoint or args.data else text
    batch = _guarded(cl, "3. Data processing", check_data, cl, tokenizer, text, min(seq_len, cfg["block_size"]))
    window = batch[2] if batch else seq_len
    loss_fn = CrossEntropyLoss()
    fresh = model
    if args.checkpoint:  # a fresh model of the same shape, for the initial-loss check
        manual_seed(0)
        fresh = GPT(dataclasses.replace(model.config, dropout=0.0))  # train mode, but no dropout noise
    model.eval()
    if batch:
        _guarded(cl, "1. Gradient flow", check_gradients, cl, model, batch[0], batch[1], loss_fn)
        _guarded(cl, "2. Loss computation", check_losses, cl, model, fresh, batch[0], batch[1], loss_fn,
                 cfg["vocab_size"])
    else:
        cl.add(False, "1. Gradient flow", "not checked: no data batch")
        cl.add(False, "2. Loss computation", "not checked: no data batch")

    if lr is None:
        cl.add(False, "4. Learning rate", "not recorded in the checkpoint")
    else:
        lo, hi = LR_RANGE
        cl.add(lo <= lr <= hi, "4. Learning rate", f"{lr:g} in [{lo:g}, {hi:g}]")
    cl.add(clip is not None and clip > 0, "4. Gradient clipping",
           f"global norm clipped at {clip:g}" if clip else "no clipping configured")
    heads = cfg["n_head"]
    cl.add(cfg["n_embd"] % heads == 0, "5. Embedding dimension",
           f"n_embd {cfg['n_embd']} divisible by n_head {heads} (head_dim {cfg['n_embd'] / heads:g})")
    over_ok = False
    try:
        model(np.zeros((1, cfg["block_size"] + 1), dtype=np.int64))
    except ValueError:
        over_ok = True
    cl.add(seq_len <= cfg["block_size"] and window <= cfg["block_size"] and over_ok, "5. Sequence length",
           f"training windows {seq_len} <= block_size {cfg['block_size']}; "
           f"{cfg['block_size'] + 1} tokens {'rejected with a clear error' if over_ok else 'NOT rejected'}")
    cl.add(tokenizer.vocab_size == cfg["vocab_size"], "5. Vocabulary size",
           f"tokenizer {tokenizer.vocab_size} {'==' if tokenizer.vocab_size == cfg['vocab_size'] else '!='} "
           f"model {cfg['vocab_size']}")
    cl.print()
    return 1 if cl.failed else 0
