"""How much memory training a GPT will need, estimated before anything is built, against what is free.

Weights, gradients and AdamW's two moments are four float32 copies of every parameter; activations
kept for backward grow with batch x window x (width per layer, attention scores, logits). A shape
the machine cannot hold is refused at start with both numbers, not after minutes of swapping.
"""

from __future__ import annotations

import os

from . import UserError

FLOAT = 4  # bytes per float32


def parameter_count(config) -> int:
    c, v, t, layers, hidden = config.embed_dim, config.vocab_size, config.max_seq_len, config.num_layers, config.hidden_dim
    block = 4 * c * c + 4 * c + 2 * c * hidden + hidden + c + 4 * c  # attention, MLP, two layer norms
    return v * c + t * c + layers * block + 2 * c + c * v  # embeddings, blocks, final norm, head


def training_bytes(config, batch_size: int, window: int) -> int:
    """Weights + gradients + AdamW moments, plus the activations one step keeps for backward."""
    c, layers, heads, v = config.embed_dim, config.num_layers, config.num_heads, config.vocab_size
    tokens = batch_size * window
    per_layer = tokens * (16 * c + 2 * config.hidden_dim) + batch_size * heads * window * window * 3
    activations = layers * per_layer + tokens * v * 3  # logits, softmax and their gradient
    return FLOAT * (4 * parameter_count(config) + activations)


def available_bytes() -> int | None:
    """Memory the system can give this process now: MemAvailable, or less under an address-space limit."""
    free = _system_available()
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    except (ImportError, OSError, ValueError):
        limit = -1
    if limit not in (-1, getattr(resource, "RLIM_INFINITY", -1)):
        free = limit if free is None else min(free, limit)
    return free


def _system_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(config, batch_size: int, window: int, flags: str) -> None:
    """UserError naming the estimate and the free memory when training `config` cannot fit."""
    need, free = training_bytes(config, batch_size, window), available_bytes()
    if free is not None and need > free:
        raise UserError(f"this model needs about {need / 2**30:,.1f} GiB to train ({parameter_count(config):,} "
                        f"weights with gradients and AdamW moments, plus activations for --batch-size {batch_size} "
                        f"x {window} tokens) but {free / 2**30:,.1f} GiB is available; lower {flags}")
