"""Layer 2.2 of the test plan: the model completes arithmetic functions with names it never saw.

Trained on `def <name>(<p>, <q>):\n    return <p> <op> <q>` over 100 function names; asked to
complete `def <held-out name>(<p>, <q>):\n    return ` greedily.
"""

from __future__ import annotations

import pytest

from tinytorch.data.python_snippets import HELD_OUT_NAMES
from tinytorch.experiments.pattern import run_pattern_learning, training_functions


def test_training_set_never_contains_a_held_out_name():
    train = training_functions(seed=0)
    defined = {s.split("(")[0][len("def "):] for s in train}
    assert not defined & set(HELD_OUT_NAMES)
    assert len(defined) >= 100


@pytest.mark.slow
def test_unseen_function_names_are_completed_with_the_right_structure(record_property):
    result = run_pattern_learning(seed=0)
    wrong = [(prompt, completion) for prompt, completion, ok in result.cases if not ok]
    record_property("pattern_accuracy", result.accuracy)
    print(f"\npattern learning: {result.accuracy:.0%} of {len(result.cases)} unseen-name prompts; "
          f"with unseen argument names too: {result.unseen_args_accuracy:.0%}")
    assert result.accuracy >= 0.90, f"accuracy {result.accuracy:.0%} < 90%; wrong completions: {wrong}"
