"""Layer 5.2 of the test plan: save a GPT mid-training, rebuild it from the file, continue training.

The resumed half must equal the uninterrupted run bit for bit (batches and dropout both draw from
tinytorch's generator, which the checkpoint restores), and the loss must keep decreasing.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch.experiments.resume import run_resume

STEPS = 40


@pytest.fixture(scope="module")
def resumed():
    return run_resume(seed=0, steps=STEPS)


def test_resumed_losses_equal_uninterrupted(resumed):
    assert len(resumed.uninterrupted_losses) == STEPS
    assert len(resumed.resumed_losses) == STEPS - STEPS // 2
    assert resumed.checkpoint_step == STEPS // 2
    assert np.array_equal(resumed.uninterrupted_losses[STEPS // 2:], resumed.resumed_losses)
    assert resumed.identical and resumed.max_abs_diff == 0.0, resumed.max_abs_diff


def test_loss_keeps_decreasing_after_resume(resumed):
    assert resumed.continued_decreasing
    assert resumed.final_loss < resumed.checkpoint_loss
    first, second = resumed.uninterrupted_losses[:STEPS // 2], resumed.resumed_losses
    assert np.mean(second) < np.mean(first)


def test_without_the_rng_state_the_runs_differ():
    """The control: a generator not restored from the checkpoint changes the batches and the dropout."""
    control = run_resume(seed=0, steps=8, restore_rng=False)
    assert not control.identical and control.max_abs_diff > 0.0


def test_bad_step_count():
    with pytest.raises(ValueError, match="steps must be an int >= 2, got 1"):
        run_resume(steps=1)
