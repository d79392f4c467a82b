"""Learning-rate schedule: linear warmup, then cosine decay from max_lr to min_lr.

Also TinyTorch's epoch-based form, `CosineSchedule(max_lr=0.1, min_lr=0.01, total_epochs=100).get_lr(epoch)`.
"""

from __future__ import annotations

import math

from ..runtime.fileio import short_list
from ..core.validation import check_float, check_int

_TINYTORCH_MIN_LR = 0.01  # TinyTorch's defaults, used when no step count is given
_TINYTORCH_TOTAL_EPOCHS = 100


class CosineSchedule:
    """`schedule(step) -> lr`: linear warmup over `warmup_steps`, cosine decay to `min_lr` at `total_steps`.

    - step < warmup_steps: lr = max_lr * (step + 1) / warmup_steps (never 0, reaches max_lr at
      step warmup_steps - 1);
    - warmup_steps <= step < total_steps: lr = min_lr + (max_lr - min_lr) * (1 + cos(pi * p)) / 2
      with p = (step - warmup_steps) / (total_steps - warmup_steps), so the midpoint of the decay
      is (max_lr + min_lr) / 2;
    - step >= total_steps: min_lr.

    `total_epochs=` is TinyTorch's name for the count; a schedule built that way has `unit == "epoch"`
    and the Trainer feeds it the epoch number instead of the optimizer step. Without any count the
    TinyTorch defaults apply (100 epochs, min_lr 0.01); with `total_steps` min_lr defaults to 0.
    """

    def __init__(self, max_lr: float = 0.1, min_lr: float | None = None, total_steps: int | None = None,
                 warmup_steps: int = 0, *, total_epochs: int | None = None):
        if total_steps is not None and total_epochs is not None:
            raise ValueError(f"CosineSchedule: give total_steps ({total_steps}) or total_epochs ({total_epochs}), not both")
        unit = "step" if total_steps is not None else "epoch"
        total = total_steps if total_steps is not None else total_epochs
        if total is None:
            total = _TINYTORCH_TOTAL_EPOCHS
        if min_lr is None:
            min_lr = 0.0 if total_steps is not None else _TINYTORCH_MIN_LR
        self._apply(self._validated({"max_lr": max_lr, "min_lr": min_lr, "total_steps": total,
                                     "warmup_steps": warmup_steps, "unit": unit}))

    @staticmethod
    def _validated(state: dict) -> dict:
        """The checked, normalised form of a state dict; raises ValueError/TypeError naming the bad value."""
        if not isinstance(state, dict):
            raise TypeError(f"CosineSchedule: state must be a dict, got {type(state).__name__}")
        expected = {"max_lr", "min_lr", "total_steps", "warmup_steps", "unit"}
        if set(state) != expected:
            raise ValueError(f"CosineSchedule: state keys {short_list(sorted(map(str, state)))}, expected {sorted(expected)}")
        where = "CosineSchedule"
        max_lr = check_float(state["max_lr"], "max_lr", where, minimum=0.0)
        min_lr = check_float(state["min_lr"], "min_lr", where, minimum=0.0)
        total = check_int(state["total_steps"], "total_steps", where, minimum=1)
        warmup = check_int(state["warmup_steps"], "warmup_steps", where, minimum=0)
        if min_lr > max_lr:
            raise ValueError(f"{where}: need 0 <= min_lr <= max_lr, got min_lr={min_lr}, max_lr={max_lr}")
        if warmup > total:
            raise ValueError(f"{where}: need 0 <= warmup_steps <= total_steps, got total_steps={total}, warmup_steps={warmup}")
        if state["unit"] not in ("step", "epoch"):
            raise ValueError(f"{where}: unit must be 'step' or 'epoch', got {state['unit']!r:.40}")
        return {"max_lr": max_lr, "min_lr": min_lr, "total_steps": total, "warmup_steps": warmup, "unit": state["unit"]}

    def _apply(self, state: dict) -> None:
        self.max_lr, self.min_lr = state["max_lr"], state["min_lr"]
        self.total_steps, self.warmup_steps, self.unit = state["total_steps"], state["warmup_steps"], state["unit"]

    def __call__(self, step) -> float:
        step = check_float(step, "step", "CosineSchedule", minimum=0)
        if step < self.warmup_steps:
            return self.max_lr * (step + 1) / self.warmup_steps
        if step >= self.total_steps:
            return self.min_lr
        progress = (step - self.warmup_steps) / (self.total_steps - self.warmup_steps)
        return self.min_lr + (self.max_lr - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def state_dict(self) -> dict:
        return {"max_lr": self.max_lr, "min_lr": self.min_lr, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps, "unit": self.unit}

    def check_state_dict(self, state: dict) -> dict:
        """The state checked (TypeError/ValueError naming the bad value), nothing changed; `_load_checked` takes it."""
        return self._validated(state)

    def load_state_dict(self, state: dict) -> None:
        """Restore what `state_dict()` returned; everything is checked before anything changes."""
        self._load_checked(self.check_state_dict(state))

    def _load_checked(self, checked: dict) -> None:
        """Apply a state that `check_state_dict` returned (trusted: no second check)."""
        self._apply(checked)

    def __repr__(self) -> str:
        return (f"CosineSchedule(max_lr={self.max_lr}, min_lr={self.min_lr}, total_{self.unit}s={self.total_steps}, "
                f"warmup_steps={self.warmup_steps})")

    # ----- TinyTorch's names (docs/COMPATIBILITY.md) ---------------------------------------------
    total_epochs = property(lambda self: self.total_steps, doc="TinyTorch's name for the length of the schedule.")

    def get_lr(self, epoch) -> float:
        """TinyTorch's spelling of `schedule(epoch)`."""
        return self(epoch)
