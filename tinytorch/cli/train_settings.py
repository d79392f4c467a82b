"""The settings of `tinytorch train`: presets (a GPTConfig shape and a TrainConfig), the options that
override them, and the default run name.

A preset is nanoGPT's config file: `nanogpt` is its shakespeare_char CPU recipe. Without --preset the
text's size picks one (PRESET_RULE). Options use nanoGPT's names (`--n-layer`, `--max-iters`,
`--learning-rate`, ...; `--n_layer=4` works too), and every help line states the default.
"""


import dataclasses
import os
from typing import NamedTuple

from ..nn.config import GPTConfig
from ..training.config import TrainConfig
from .errors import UserError
from .common import finite_float, non_negative_int, positive_int


class Preset(NamedTuple):
    model: GPTConfig  # the shape; vocab_size comes from the tokenizer
    train: TrainConfig
    bpe_vocab: int  # target vocabulary of a BPE tokenizer trained for this preset


def _preset(n_embd, n_layer, n_head, block_size, dropout, bpe_vocab, **train) -> Preset:
    model = GPTConfig(n_embd=n_embd, n_layer=n_layer, n_head=n_head, block_size=block_size, dropout=dropout)
    return Preset(model, TrainConfig(**train), bpe_vocab)


PRESETS = {
    "tiny": _preset(32, 1, 4, 64, 0.0, 384, batch_size=16, max_iters=300, learning_rate=3e-3, min_lr=3e-4,
                    warmup_iters=30, eval_iters=4),
    "small": _preset(64, 2, 4, 64, 0.1, 512, batch_size=16, max_iters=500, learning_rate=3e-3, min_lr=3e-4,
                     warmup_iters=50, eval_iters=4),
    "medium": _preset(128, 4, 4, 128, 0.1, 1024, batch_size=16, max_iters=1000, learning_rate=1e-3, min_lr=1e-4,
                      warmup_iters=50, eval_iters=4),
    # nanoGPT's config/train_shakespeare_char.py with its CPU line: 4 layers, 4 heads, 128 wide, block 64,
    # batch 12, 2000 iterations, lr 1e-3 with 100 warmup steps and cosine decay to 1e-4, dropout 0.
    "nanogpt": _preset(128, 4, 4, 64, 0.0, 1024, eval_interval=250),
}
# (characters below which the preset is chosen, preset): a text's size picks the preset when none is given
PRESET_RULE = ((100_000, "tiny"), (1_000_000, "small"), (float("inf"), "nanogpt"))
RULE_TEXT = "under 100k characters: tiny; under 1M: small; larger: nanogpt"

MODEL_OPTIONS = {  # GPTConfig field: (flags, type, metavar, what)
    "n_layer": (("--n-layer",), positive_int, "N", "transformer blocks"),
    "n_head": (("--n-head",), positive_int, "N", "attention heads; must divide --n-embd"),
    "n_embd": (("--n-embd",), positive_int, "N", "width"),
    "block_size": (("--block-size",), positive_int, "N", "context length in tokens"),
    "dropout": (("--dropout",), finite_float, "P", "dropout in [0, 1)"),
}
TRAIN_OPTIONS = {  # TrainConfig field: (flags, type, metavar, what)
    "batch_size": (("--batch-size",), positive_int, "N", "windows per step"),
    "max_iters": (("--max-iters", "--steps"), positive_int, "N", "optimizer steps in all (the cosine decays over them)"),
    "learning_rate": (("--learning-rate", "--lr"), finite_float, "LR", "peak learning rate"),
    "min_lr": (("--min-lr",), finite_float, "LR", "learning rate at the end of the cosine decay"),
    "warmup_iters": (("--warmup-iters",), non_negative_int, "N", "linear warmup steps"),
    "weight_decay": (("--weight-decay",), finite_float, "W", "AdamW weight decay, on matrices only"),
    "beta1": (("--beta1",), finite_float, "B", "AdamW beta1"),
    "beta2": (("--beta2",), finite_float, "B", "AdamW beta2"),
    "grad_clip": (("--grad-clip",), finite_float, "NORM", "clip the global gradient norm (0: off)"),
    "eval_interval": (("--eval-interval", "--eval-every"), positive_int, "N", "validate, log and checkpoint every N steps"),
    "eval_iters": (("--eval-iters",), positive_int, "N", "validation batches per evaluation"),
}
# nanoGPT options with another name here, or none: what to type instead
NANOGPT_HINTS = {
    "--lr-decay-iters": "the cosine decays over --max-iters",
    "--decay-lr": "the learning rate always decays (set --min-lr equal to --learning-rate to keep it flat)",
    "--dataset": "--data FILE",
    "--out-dir": "--out CKPT",
    "--init-from": "--resume CKPT",
    "--device": "nothing: tinytorch runs on the CPU",
    "--compile": "nothing: tinytorch runs numpy",
    "--dtype": "nothing: tinytorch trains in float32",
    "--gradient-accumulation-steps": "a larger --batch-size",
    "--log-interval": "--eval-interval",
    "--always-save-checkpoint": "nothing: the last and the best checkpoints are always saved",
}


def _default_text(field: str, group: str) -> str:
    """'default 0.1', or 'default per preset: tiny 300, ...' when the presets differ."""
    values = {name: getattr(getattr(p, group), field) for name, p in PRESETS.items()}
    if len(set(values.values())) == 1:
        return f"default {next(iter(values.values())):g}"
    return "default per preset: " + ", ".join(f"{name} {value:g}" for name, value in values.items())


def add_options(p) -> None:
    """The preset and every model and training option, each help line naming its default."""
    shapes = "; ".join(f"{name}: {pr.model.n_layer} layer(s) {pr.model.n_embd} wide, {pr.train.max_iters} iters"
                       for name, pr in PRESETS.items())
    p.add_argument("--preset", "--size", dest="preset", choices=tuple(PRESETS), default=None,
                   help=f"model and recipe (default by the text's size: {RULE_TEXT}): {shapes}")
    for group, options in (("model", MODEL_OPTIONS), ("train", TRAIN_OPTIONS)):
        for field, (flags, kind, metavar, what) in options.items():
            p.add_argument(*flags, dest=field, type=kind, default=None, metavar=metavar,
                           help=f"{what} ({_default_text(field, group)})")


def preset_for(n_bytes: int) -> str:
    """The preset PRESET_RULE picks for a text of `n_bytes` bytes (its characters, for plain ASCII)."""
    return next(name for limit, name in PRESET_RULE if n_bytes < limit)


def given(args, options: dict) -> dict:
    """{field: value} of the options the user gave."""
    return {field: getattr(args, field) for field in options if getattr(args, field, None) is not None}


def flag_of(field: str) -> str:
    return {**MODEL_OPTIONS, **TRAIN_OPTIONS}[field][0][0]


def fresh_settings(args, preset_name: str) -> tuple[GPTConfig, TrainConfig]:
    """The preset's shape and recipe with the user's options on top; bad values are one-line UserErrors."""
    preset = PRESETS[preset_name]
    model_changes, train_changes = given(args, MODEL_OPTIONS), given(args, TRAIN_OPTIONS)
    if "learning_rate" in train_changes and "min_lr" not in train_changes:  # the decay keeps its ratio
        train_changes["min_lr"] = train_changes["learning_rate"] * preset.train.min_lr / preset.train.learning_rate
    if "max_iters" in train_changes and "warmup_iters" not in train_changes:
        train_changes["warmup_iters"] = min(preset.train.warmup_iters, train_changes["max_iters"] // 10)
    return replaced(preset.model, model_changes), replaced(preset.train, train_changes)


def replaced(settings, changes: dict):
    """`settings` with `changes`; a value its class refuses is a UserError naming the option."""
    try:
        return dataclasses.replace(settings, **changes)
    except (TypeError, ValueError) as exc:
        message = str(exc).split(": ", 1)[-1]
        for field in changes:
            message = message.replace(field, flag_of(field))
        raise UserError(message) from None


def legacy_train_config(size: dict) -> TrainConfig:
    """The TrainConfig a checkpoint written before TrainConfig trained with (its 'size' block)."""
    steps = size["steps"]
    return TrainConfig(batch_size=size["batch_size"], max_iters=steps, learning_rate=size["lr"], min_lr=size["lr"] / 10,
                       warmup_iters=min(50, steps // 10), weight_decay=0.01, weight_decay_on="all", beta2=0.999,
                       eval_iters=max(1, 64 // size["batch_size"]))


def run_name(data: str, model: GPTConfig, tokenizer: str) -> str:
    """runs/<text>-L<layers>-E<width>-H<heads>-T<context>-<tokenizer>[-N].safetensors: what the run is, never an
    earlier run's name (a -2, -3, ... suffix when one exists)."""
    stem = os.path.splitext(os.path.basename(os.path.normpath(data)))[0] or "text"
    base = os.path.join("runs", f"{stem}-L{model.n_layer}-E{model.n_embd}-H{model.n_head}-T{model.block_size}-{tokenizer}")
    name, n = base, 1
    while any(os.path.exists(f"{name}{suffix}") for suffix in (".safetensors", "-best.safetensors")):
        n += 1
        name = f"{base}-{n}"
    return f"{name}.safetensors"
