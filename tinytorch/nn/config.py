"""GPTConfig: the one description of a GPT's shape, validated in one place.

Used by `GPT`, the checkpoint metadata, the CLI sizes, the recipes and the copilot, like nanoGPT's
GPTConfig. A config read from a file goes through `from_dict`, which checks every field's type and
range and names the file and the field in its errors.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from ..runtime.fileio import short_list
from ..core.validation import check_float, check_int

# TinyTorch's names for four fields (API.md: `GPTConfig(vocab_size, embed_dim, num_layers, num_heads,
# max_seq_len)`): accepted by the constructor and `from_dict`, readable as properties, named in errors
# when the caller used them. docs/COMPATIBILITY.md lists them.
TINYTORCH_NAMES = {"embed_dim": "n_embd", "num_layers": "n_layer", "num_heads": "n_head", "max_seq_len": "block_size"}
_REQUIRED = ("vocab_size", "n_embd", "n_layer", "n_head")


@dataclass(frozen=True, init=False)
class GPTConfig:
    """The shape of a GPT: vocabulary, width, depth, heads, context length and regularisation (nanoGPT's names).

    Defaults are GPT-2 small's, as nanoGPT's; the CLI and the presets replace `vocab_size` with the
    tokenizer's and `block_size` with the training window.
    """

    vocab_size: int = 50304
    n_embd: int = 768
    n_layer: int = 12
    n_head: int = 12
    block_size: int = 1024
    dropout: float = 0.0
    mlp_ratio: int = 4
    layer_norm_eps: float = 1e-5

    def __init__(self, vocab_size=50304, n_embd=None, n_layer=None, n_head=None, block_size=None,
                 dropout=0.0, mlp_ratio=4, layer_norm_eps=1e-5, **tinytorch_names):
        given = {"n_embd": n_embd, "n_layer": n_layer, "n_head": n_head, "block_size": block_size}
        spelled = {name: name for name in given}  # how the caller named each field, for the errors
        for alias, value in tinytorch_names.items():
            if alias not in TINYTORCH_NAMES:
                raise TypeError(f"GPTConfig() got an unexpected keyword argument '{alias}'")
            field = TINYTORCH_NAMES[alias]
            if given[field] is not None:
                raise TypeError(f"GPTConfig: give {field} or {alias}, not both")
            given[field], spelled[field] = value, alias  # even None: then the check below names it
        defaults = {"n_embd": 768, "n_layer": 12, "n_head": 12, "block_size": 1024}
        values = {"vocab_size": vocab_size,
                  **{k: defaults[k] if v is None and spelled[k] == k else v for k, v in given.items()},
                  "dropout": dropout, "mlp_ratio": mlp_ratio, "layer_norm_eps": layer_norm_eps}
        for name, value in values.items():
            object.__setattr__(self, name, value)
        self.validate(spelled)

    # TinyTorch's spellings, read-only (the fields are the truth).
    embed_dim = property(lambda self: self.n_embd)
    num_layers = property(lambda self: self.n_layer)
    num_heads = property(lambda self: self.n_head)
    max_seq_len = property(lambda self: self.block_size)

    def validate(self, spelled: dict | None = None) -> None:
        """Check every field (TypeError/ValueError naming the field as the caller spelled it, and the value);
        store plain int/float."""
        where, name_of = "GPTConfig", {**{f: f for f in TINYTORCH_NAMES.values()}, **(spelled or {})}
        object.__setattr__(self, "vocab_size", check_int(self.vocab_size, "vocab_size", where, minimum=1))
        for field in ("n_embd", "n_layer", "n_head", "block_size"):
            object.__setattr__(self, field, check_int(getattr(self, field), name_of[field], where, minimum=1))
        dropout = check_float(self.dropout, "dropout", where)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{where}: dropout must be in [0, 1), got {dropout}")
        mlp_ratio = check_float(self.mlp_ratio, "mlp_ratio", where, minimum=0.0, min_inclusive=False)
        object.__setattr__(self, "dropout", dropout)
        object.__setattr__(self, "mlp_ratio", int(mlp_ratio) if mlp_ratio.is_integer() else mlp_ratio)
        object.__setattr__(self, "layer_norm_eps",
                           check_float(self.layer_norm_eps, "layer_norm_eps", where, minimum=0.0, min_inclusive=False))
        if self.n_embd % self.n_head != 0:
            raise ValueError(f"{where}: {name_of['n_embd']} {self.n_embd} is not divisible by "
                             f"{name_of['n_head']} {self.n_head}")
        hidden = mlp_ratio * self.n_embd  # a float: huge ratios overflow to inf, not to a huge int
        if not math.isfinite(hidden) or int(hidden) < 1:
            raise ValueError(f"{where}: mlp_ratio {mlp_ratio} gives an MLP of width {hidden}; it needs a finite width >= 1")

    @property
    def hidden_dim(self) -> int:
        """Width of each block's MLP."""
        return int(self.mlp_ratio * self.n_embd)

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def to_dict(self) -> dict:
        """Plain JSON-ready fields, as stored in checkpoint metadata."""
        return asdict(self)

    @classmethod
    def from_settings(cls, settings, vocab_size: int, **overrides) -> "GPTConfig":
        """The GPTConfig of a settings object that has some of GPTConfig's field names (either spelling).

        `vocab_size` comes from the tokenizer; `overrides` replace fields, e.g. block_size=window.
        """
        names = [f.name for f in fields(cls)] + list(TINYTORCH_NAMES)
        values = {name: getattr(settings, name) for name in names if name in _own_names(settings)}
        return cls(**{**values, "vocab_size": vocab_size, **overrides})

    @classmethod
    def from_dict(cls, d, source: str = "config") -> "GPTConfig":
        """A validated GPTConfig from a dict (e.g. checkpoint metadata); errors name `source` and the field."""
        if not isinstance(d, dict):
            raise TypeError(f"{source}: the model config must be a dict, got {type(d).__name__}")
        known = {f.name for f in fields(cls)} | set(TINYTORCH_NAMES)
        unknown = sorted(str(k) for k in d if k not in known)
        if unknown:
            raise ValueError(f"{source}: unknown model config field(s) {short_list(unknown)}")
        tinytorch_spelling = {v: k for k, v in TINYTORCH_NAMES.items()} if any(k in TINYTORCH_NAMES for k in d) else {}
        missing = [tinytorch_spelling.get(name, name) for name in _REQUIRED
                   if name not in d and tinytorch_spelling.get(name) not in d]
        if missing:
            raise ValueError(f"{source}: the model config is missing {missing}")
        try:
            return cls(**d)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{source}: {exc}") from None


def check_block_count(names, pattern, num_layers: int, where: str, field: str = "num_layers") -> None:
    """ValueError unless the block indices `pattern` (group 1) finds in `names` are exactly 0..num_layers-1.

    Counts the blocks a file holds, never range(claimed count), so a huge claimed depth costs nothing.
    """
    blocks = sorted({int(m.group(1)) for name in names if (m := pattern.match(name))})
    if len(blocks) != num_layers or blocks != list(range(len(blocks))):
        raise ValueError(f"{where}: the config claims {field} {num_layers} but the file holds "
                         f"{len(blocks)} block(s), numbered {short_list(blocks)}")


def _own_names(settings) -> set:
    """The attribute names a settings object (a dataclass or any object) defines, properties excluded."""
    if hasattr(settings, "__dataclass_fields__"):
        return set(settings.__dataclass_fields__)
    return set(vars(settings))
