"""The memorization runs' settings: the test plan's exact setup, and our faster default.

A recipe is a model shape (`GPTConfig`) and training settings (`TrainConfig`), the same two classes the
CLI and the benchmarks use; the vocabulary size comes from the tokenizer when the model is built.
"""

from __future__ import annotations

from dataclasses import replace

from ..nn.config import GPTConfig
from ..training.config import TrainConfig

# The plan's layer 2.1 setup: GPT(embed 32, 1 layer, 4 heads, max_seq_len 64), Adam lr 1e-3 (PyTorch's
# betas), batch 1, padding with 0 to 64, element-wise clipping to +-1, 500 steps, no schedule.
PLAN_MODEL = GPTConfig(n_embd=32, n_layer=1, n_head=4, block_size=64)
PLAN_TRAIN = TrainConfig(batch_size=1, max_iters=500, learning_rate=1e-3, decay_lr=False, min_lr=0.0,
                         warmup_iters=0, optimizer="adam", weight_decay=0.0, beta2=0.999, grad_clip=0.0,
                         grad_clip_value=1.0)

# Ours (used by `tinytorch verify`): all 5 patterns in every batch and a 10x learning rate,
# which reaches loss 0.1 in about 45 steps instead of about 350.
DEFAULT_TRAIN = replace(PLAN_TRAIN, batch_size=5, max_iters=150, learning_rate=1e-2)
