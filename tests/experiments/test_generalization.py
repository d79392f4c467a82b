"""Layer 2.3 of the test plan: train on 45 snippets, hold 5 out, compare the losses.

The figure is taken at the step with the lowest held-out loss (early stopping).
"""

from __future__ import annotations

import pytest

from tinytorch.experiments.generalization import corpus_of, covered_split, run_generalization


def test_split_is_45_5_and_covers_characters():
    train, test = covered_split(corpus_of(50), n_test=5, seed=0)
    assert (len(train), len(test)) == (45, 5)
    assert not set(train) & set(test)
    assert set("".join(test)) <= set("".join(train))


@pytest.mark.slow
def test_held_out_loss_within_2x_of_train_loss(record_property):
    result = run_generalization(seed=0)
    record_property("generalization", f"step {result.step}: train {result.train_loss:.3f}, held-out {result.held_out_loss:.3f}")
    print(f"\ngeneralization at step {result.step}: train {result.train_loss:.3f}, "
          f"held-out {result.held_out_loss:.3f}, ratio {result.ratio:.2f}")
    assert result.train_loss < 2.0, f"the model did not learn: train loss {result.train_loss:.3f}"
    assert result.ratio <= 2.0, (
        f"held-out loss {result.held_out_loss:.3f} is {result.ratio:.2f}x the train loss {result.train_loss:.3f} "
        f"at step {result.step}"
    )
