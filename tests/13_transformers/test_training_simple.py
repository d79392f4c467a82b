"""Layers 2.1 and 3.2 of the test plan: a 1-layer GPT memorizes five code snippets.

The plan's exact recipe (embed 32, 1 layer, 4 heads, max_seq_len 64, Adam lr 1e-3, batch 1,
padding with 0 to 64, element-wise clipping to +-1, 500 steps), checked on several seeds.
Run directly (`python tests/13_transformers/test_training_simple.py`) to print the plan's
"Quick Validation Results" block.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from tinytorch.experiments.memorization import run_memorization
from dataclasses import replace

from tinytorch.experiments.recipes import DEFAULT_TRAIN, PLAN_TRAIN

SEEDS = [0, 1, 2, 3, 4]


@pytest.fixture(scope="module")
def plan_runs():
    return {seed: run_memorization(seed, PLAN_TRAIN) for seed in SEEDS}


@pytest.mark.parametrize("seed", SEEDS)
def test_memorization_plan_recipe(plan_runs, seed):
    run = plan_runs[seed]
    assert not run.has_nonfinite, f"seed {seed}: NaN/Inf in the losses"
    assert run.params_with_grad == run.params_total == 21, (
        f"seed {seed}: gradient flow {run.params_with_grad}/{run.params_total}"
    )
    assert abs(run.initial_loss - math.log(run.vocab_size)) < 0.3, (
        f"seed {seed}: initial loss {run.initial_loss:.3f} should be near ln(V) = {math.log(run.vocab_size):.3f}"
    )
    assert run.decrease > 0.80, f"seed {seed}: loss decrease {run.decrease:.1%} <= 80%"
    assert run.last100_mean < 0.1, f"seed {seed}: mean of the last 100 losses {run.last100_mean:.4f} >= 0.1"


def test_convergence_rate_plan_recipe(plan_runs):
    """Steps until the loss (mean over one pass of the 5 patterns) is below 0.1; the plan's baseline is ~300."""
    steps = {seed: run.steps_to(0.1) for seed, run in plan_runs.items()}
    assert all(s is not None for s in steps.values()), f"some seeds never reached loss 0.1: {steps}"
    assert max(steps.values()) <= 400, f"steps to loss 0.1 per seed: {steps}"


def test_default_recipe_converges_fast():
    """Our default recipe (used by `tinytorch verify`) reaches loss 0.1 within 150 steps."""
    for seed in (0, 1, 2):
        run = run_memorization(seed, DEFAULT_TRAIN)
        reached = run.steps_to(0.1)
        assert reached is not None and reached <= 150, f"seed {seed}: steps to loss 0.1 = {reached}"
        assert run.decrease > 0.95, f"seed {seed}: decrease {run.decrease:.1%}"


def test_same_seed_same_losses():
    a = run_memorization(7, replace(PLAN_TRAIN, max_iters=30))
    b = run_memorization(7, replace(PLAN_TRAIN, max_iters=30))
    assert np.array_equal(a.losses, b.losses), "same seed must give bit-identical losses"


def quick_validation_block(run) -> str:
    return "\n".join([
        "**Quick Validation Results**:",
        f"- Initial loss: {run.initial_loss:.3f}",
        f"- Final loss: {run.final_loss:.3f}",
        f"- Loss decrease: {run.decrease:.1%}",
        f"- Training time: {run.seconds:.1f}s ({run.train.max_iters} steps)",
        f"- Gradient flow: {run.params_with_grad}/{run.params_total} parameters {'✅' if run.params_with_grad == run.params_total else '❌'}",
    ])


if __name__ == "__main__":
    result = run_memorization(0, PLAN_TRAIN)
    print(quick_validation_block(result))
    ok = result.decrease > 0.8 and result.last100_mean < 0.1 and result.params_with_grad == result.params_total
    print("\nTransformer learning: ✅ VERIFIED" if ok else "\nTransformer learning: ❌ NOT VERIFIED")
    sys.exit(0 if ok else 1)
