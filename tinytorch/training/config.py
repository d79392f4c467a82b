"""TrainConfig: how to train a model (batch, length, optimizer, schedule, clipping, evaluation).

The one training-settings class of the CLI, the experiments and the benchmarks; the model's shape is
`GPTConfig`. Names are nanoGPT's (`batch_size`, `max_iters`, `learning_rate`, `min_lr`, `warmup_iters`,
`decay_lr`, `weight_decay`, `beta1`, `beta2`, `grad_clip`, `eval_interval`, `eval_iters`), and the
defaults are nanoGPT's shakespeare_char CPU recipe.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

OPTIMIZERS = ("adamw", "adam")  # adamw: decoupled weight decay; adam: L2 in the gradient (the test plan's)
DECAY_ON = ("matrices", "all")  # matrices: weights with 2+ dims (nanoGPT); all: biases and norms too


@dataclass(frozen=True)
class TrainConfig:
    """The optimisation settings of one run; every field is checked on construction."""

    batch_size: int = 12
    max_iters: int = 2000
    learning_rate: float = 1e-3
    decay_lr: bool = True  # linear warmup then cosine decay to min_lr; False keeps learning_rate throughout
    min_lr: float = 1e-4
    warmup_iters: int = 100
    optimizer: str = "adamw"
    weight_decay: float = 0.1
    weight_decay_on: str = "matrices"
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0  # global-norm clipping; 0 turns it off
    grad_clip_value: float = 0.0  # element-wise clipping to +-value (the test plan's); 0 turns it off
    eval_interval: int = 0  # validate every N steps; 0: every max_iters // 10
    eval_iters: int = 20  # validation batches per evaluation

    def __post_init__(self):
        where = "TrainConfig"
        for name in ("batch_size", "max_iters"):
            _check(isinstance(getattr(self, name), int) and getattr(self, name) >= 1, where, name, "a positive int",
                   getattr(self, name))
        for name in ("warmup_iters", "eval_interval", "eval_iters"):
            _check(isinstance(getattr(self, name), int) and getattr(self, name) >= 0, where, name, "an int >= 0",
                   getattr(self, name))
        _check(_real(self.learning_rate) and 0 < self.learning_rate < 1, where, "learning_rate", "in (0, 1)",
               self.learning_rate)
        _check(_real(self.min_lr) and 0 <= self.min_lr <= self.learning_rate, where, "min_lr",
               f"in [0, learning_rate {self.learning_rate}]", self.min_lr)
        for name in ("beta1", "beta2"):
            _check(_real(getattr(self, name)) and 0 <= getattr(self, name) < 1, where, name, "in [0, 1)",
                   getattr(self, name))
        for name in ("weight_decay", "grad_clip", "grad_clip_value"):
            _check(_real(getattr(self, name)) and getattr(self, name) >= 0, where, name, "a number >= 0",
                   getattr(self, name))
        _check(isinstance(self.decay_lr, bool), where, "decay_lr", "True or False", self.decay_lr)
        _check(self.optimizer in OPTIMIZERS, where, "optimizer", f"one of {OPTIMIZERS}", self.optimizer)
        _check(self.weight_decay_on in DECAY_ON, where, "weight_decay_on", f"one of {DECAY_ON}", self.weight_decay_on)
        if self.decay_lr and self.warmup_iters > self.max_iters:
            raise ValueError(f"{where}: warmup_iters {self.warmup_iters} is more than max_iters {self.max_iters}")

    @property
    def every(self) -> int:
        """Steps between evaluations: eval_interval, or a tenth of max_iters when it is 0."""
        return self.eval_interval or max(1, self.max_iters // 10)

    # ----- what the settings build -------------------------------------------------------------
    def param_groups(self, model) -> list:
        """Parameter groups in the model's order, each with its weight decay (0 for biases and norms when
        weight_decay_on is 'matrices'); the model's order keeps the optimizer state's layout unchanged."""
        groups = []
        for p in model.parameters():
            decay = self.weight_decay if (self.weight_decay_on == "all" or p.data.ndim >= 2) else 0.0
            if groups and groups[-1]["weight_decay"] == decay:
                groups[-1]["params"].append(p)
            else:
                groups.append({"params": [p], "weight_decay": decay})
        return groups

    def make_optimizer(self, model):
        """AdamW (or Adam) over the model's parameters with these betas, rate and weight decay."""
        from ..optim.optimizers import Adam, AdamW

        cls = AdamW if self.optimizer == "adamw" else Adam
        return cls(self.param_groups(model), lr=self.learning_rate, betas=(self.beta1, self.beta2),
                   weight_decay=self.weight_decay)

    def make_schedule(self, max_iters: int | None = None):
        """Warmup then cosine decay to min_lr over `max_iters` (default: this config's); None without decay_lr."""
        from ..optim.schedule import CosineSchedule

        if not self.decay_lr:
            return None
        return CosineSchedule(max_lr=self.learning_rate, min_lr=self.min_lr, total_steps=max_iters or self.max_iters,
                              warmup_steps=self.warmup_iters)

    def make_trainer(self, model, loss_fn):
        """A Trainer with this optimizer, schedule and clipping."""
        from .trainer import Trainer

        return Trainer(model, self.make_optimizer(model), loss_fn, schedule=self.make_schedule(),
                       grad_clip_norm=self.grad_clip or None, grad_clip_value=self.grad_clip_value or None)

    # ----- storage -----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d, source: str = "config") -> "TrainConfig":
        """A checked TrainConfig from a dict (e.g. checkpoint metadata); errors name `source`."""
        if not isinstance(d, dict):
            raise TypeError(f"{source}: the training settings must be a dict, got {type(d).__name__}")
        unknown = sorted(str(k) for k in d if k not in {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"{source}: unknown training setting(s) {unknown}")
        try:
            return cls(**d)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{source}: {exc}") from None


def _real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check(ok: bool, where: str, name: str, expected: str, value) -> None:
    if not ok:
        error = ValueError if isinstance(value, (int, float)) and not isinstance(value, bool) else TypeError
        raise error(f"{where}: {name} must be {expected}, got {value!r}")
