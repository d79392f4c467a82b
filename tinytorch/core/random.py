"""The package's one source of randomness, so `manual_seed(s)` makes every run repeatable.

Initialisation, dropout, shuffling and sampling all draw from `get_rng()`.
"""

from __future__ import annotations

import numpy as np

from .validation import check_int

_rng = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed tinytorch's generator (initialisation, dropout, shuffling, sampling)."""
    global _rng
    _rng = np.random.default_rng(check_int(seed, "seed", "manual_seed", minimum=0))
    return _rng


def get_rng() -> np.random.Generator:
    """The generator every random draw in tinytorch uses."""
    return _rng


def get_rng_state() -> dict:
    """A JSON-serialisable snapshot of the generator, for checkpoints."""
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a snapshot taken by `get_rng_state()`."""
    if not isinstance(state, dict) or state.get("bit_generator") != _rng.bit_generator.state["bit_generator"]:
        raise ValueError(f"set_rng_state: not a {_rng.bit_generator.state['bit_generator']} state: {state!r:.80}")
    _rng.bit_generator.state = state
