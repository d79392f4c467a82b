"""The corpora the checks train on, gathered by the parent (which may import tinytorch) and sent to the worker."""

from __future__ import annotations


def grading_data(seed: int = 0) -> dict:
    from ..text.corpus import ARITHMETIC_OPS, HELD_OUT_NAMES, MEMORIZATION_PATTERNS, PARAM_PAIRS
    from ..experiments.generalization import corpus_of, covered_split
    from ..experiments.pattern import prompts_for, training_functions

    train, test = covered_split(corpus_of(50), n_test=5, seed=seed)
    return {
        "memorization": list(MEMORIZATION_PATTERNS),
        "split": {"train": list(train), "test": list(test)},
        "pattern": {"train": training_functions(seed),
                    "prompts": [(prompt, p, q) for prompt, (p, q) in prompts_for(HELD_OUT_NAMES, PARAM_PAIRS)],
                    "ops": list(ARITHMETIC_OPS)},
    }
