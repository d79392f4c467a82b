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

_REQUIRED = ("vocab_size", "embed_dim", "num_layers", "num_heads")


@dataclass(frozen=True)
class GPTConfig:
    """The shape of a GPT: vocabulary, width, depth, heads, context length and regularisation."""

    vocab_size: int
    embed_dim: int
    num_layers: int
    num_heads: int
    max_seq_len: int = 1024
    dropout: float = 0.0
    mlp_ratio: int = 4
    layer_norm_eps: float = 1e-5

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Check every field (TypeError/ValueError naming the field and the value); store plain int/float."""
        where = "GPTConfig"
        for name in ("vocab_size", "embed_dim", "num_layers", "num_heads", "max_seq_len"):
            object.__setattr__(self, name, check_int(getattr(self, name), name, where, minimum=1))
        dropout = check_float(self.dropout, "dropout", where)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{where}: dropout must be in [0, 1), got {dropout}")
        mlp_ratio = check_float(self.mlp_ratio, "mlp_ratio", where, minimum=0.0, min_inclusive=False)
        object.__setattr__(self, "dropout", dropout)
        object.__setattr__(self, "mlp_ratio", int(mlp_ratio) if mlp_ratio.is_integer() else mlp_ratio)
        object.__setattr__(self, "layer_norm_eps",
                           check_float(self.layer_norm_eps, "layer_norm_eps", where, minimum=0.0, min_inclusive=False))
        if self.embed_dim % self.num_heads != 0:
            raise ValueError(f"{where}: embed_dim {self.embed_dim} is not divisible by num_heads {self.num_heads}")
        hidden = mlp_ratio * self.embed_dim  # a float: huge ratios overflow to inf, not to a huge int
        if not math.isfinite(hidden) or int(hidden) < 1:
            raise ValueError(f"{where}: mlp_ratio {mlp_ratio} gives an MLP of width {hidden}; it needs a finite width >= 1")

    @property
    def hidden_dim(self) -> int:
        """Width of each block's MLP."""
        return int(self.mlp_ratio * self.embed_dim)

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads

    def to_dict(self) -> dict:
        """Plain JSON-ready fields, as stored in checkpoint metadata."""
        return asdict(self)

    @classmethod
    def from_settings(cls, settings, vocab_size: int, **overrides) -> "GPTConfig":
        """The GPTConfig of a settings object (a CLI size, a recipe) that has some of GPTConfig's field names.

        `vocab_size` comes from the tokenizer; `overrides` replace fields, e.g. max_seq_len=window.
        """
        values = {f.name: getattr(settings, f.name) for f in fields(cls) if hasattr(settings, f.name)}
        return cls(**{**values, "vocab_size": vocab_size, **overrides})

    @classmethod
    def from_dict(cls, d, source: str = "config") -> "GPTConfig":
        """A validated GPTConfig from a dict (e.g. checkpoint metadata); errors name `source` and the field."""
        if not isinstance(d, dict):
            raise TypeError(f"{source}: the model config must be a dict, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in d if k not in known)
        if unknown:
            raise ValueError(f"{source}: unknown model config field(s) {short_list(unknown)}")
        missing = [name for name in _REQUIRED if name not in d]
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
