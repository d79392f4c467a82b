"""Layer 5.3 of the test plan: completions of the trained copilot are syntactically valid Python.

The model is the one the milestone script trained and saved (see conftest.py), loaded back from
its checkpoint. Run with `-s` to see the validity rates and every held-out completion.
"""

from __future__ import annotations

import ast
import re
import warnings

import numpy as np
import pytest

from tinytorch.text.tokenization import CharTokenizer
from tinytorch.experiments.augment import SnippetSampler
from tinytorch.experiments.code_model import IGNORE
from tinytorch.experiments.copilot import (COPILOT_MODEL, complete, completion_prompts, copilot_split,
                                           generation_validity, is_valid_python, load_copilot, run_copilot)

REQUIRED_VALIDITY = 0.8


@pytest.fixture(scope="module")
def copilot(default_run):
    proc, _, checkpoint = default_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    return load_copilot(checkpoint)


def show(name, rate, cases):
    print(f"\n{name} completions: {rate:.0%} valid")
    for prompt, completion, valid in cases:
        print(f"  [{'valid' if valid else 'INVALID'}] {prompt + completion!r}")


def test_run_copilot_reports_its_run():
    calls = []
    result = run_copilot(seed=3, steps=3, progress=lambda step, loss: calls.append((step, loss)))
    assert [step for step, _ in calls] == [1, 2, 3] and [loss for _, loss in calls] == result.train_losses
    assert result.train.max_iters == 3 and result.model_config.n_embd == COPILOT_MODEL.n_embd
    assert len(result.train_snippets) == 45 and len(result.test_snippets) == 5
    assert result.decrease == pytest.approx(1 - result.final_loss / result.initial_loss)
    assert 0 < result.final_loss < result.initial_loss and result.seconds > 0
    assert result.tokenizer.vocab_size == result.model.vocab_size
    with pytest.raises(ValueError, match="steps must be a positive int, got 0"):
        run_copilot(steps=0)


def test_completion_prompts():
    pairs = completion_prompts(["def f(x):\n    return x", "total = sum(numbers)"])
    assert pairs == [("def f(x):\n", "    return x"), ("total = su", "m(numbers)")]


def test_validity_check_can_fail():
    assert is_valid_python("def f(x):\n    return x\n")
    assert not is_valid_python("def f(x):\n")  # a header with no body
    assert not is_valid_python("x = [1, 2")


@pytest.fixture(scope="module")
def sampler():
    train, _ = copilot_split(0)
    return SnippetSampler(CharTokenizer().build_vocab(train), train, 48)


def test_rewritten_snippets_stay_valid_python(sampler):
    rng = np.random.default_rng(0)
    originals = ["".join(text for _, text in pieces) for pieces in sampler.pieces]
    changed = 0
    for _ in range(5):
        for i, original in enumerate(originals):
            rewritten = sampler.rewrite(i, rng)
            ast.parse(rewritten)
            changed += rewritten != original
    assert changed > 0.8 * 5 * len(originals)


def test_renaming_is_consistent():
    snippet = "for k in d:\n    print(k, d[k])"
    sampler = SnippetSampler(CharTokenizer().build_vocab([snippet, "x = y"]), [snippet, "x = y"], 48)
    rng = np.random.default_rng(1)
    for _ in range(10):
        rewritten = sampler.rewrite(0, rng)
        match = re.fullmatch(r"for (\w+) in (\w+):\n    print\(\1, \2\[\1\]\)", rewritten)
        assert match and match.group(1) != match.group(2), rewritten


def test_sampler_batches_are_shifted_snippets(sampler):
    inputs, targets = sampler.batch(8, np.random.default_rng(2))
    assert inputs.shape == targets.shape and inputs.shape[0] == 8
    real = targets != IGNORE
    assert np.array_equal(inputs[:, 1:][real[:, :-1]], targets[:, :-1][real[:, :-1]])
    ends = real.sum(axis=1) - 1  # each row's last real target is the end token
    assert np.all(targets[np.arange(8), ends] == 0)
    assert real[:, -1].any()  # trailing all-padding columns were trimmed


def test_held_out_completions_parse(copilot, record_property):
    rate, cases = generation_validity(copilot.model, copilot.tokenizer, completion_prompts(copilot.test_snippets))
    record_property("held_out_validity", rate)
    show("held-out", rate, cases)
    assert len(cases) == 5
    assert rate >= REQUIRED_VALIDITY, f"only {rate:.0%} of held-out completions parse: {cases}"


def test_training_completions_parse(copilot, record_property):
    rate, cases = generation_validity(copilot.model, copilot.tokenizer, completion_prompts(copilot.train_snippets))
    record_property("train_validity", rate)
    show("training", rate, [c for c in cases if not c[2]])
    assert len(cases) == 45
    assert rate >= REQUIRED_VALIDITY, f"only {rate:.0%} of training completions parse"


def test_kv_cache_matches_uncached_generation(copilot):
    snippets = copilot.test_snippets + copilot.train_snippets[::5]
    for prompt, _ in completion_prompts(snippets):
        cached = complete(copilot.model, copilot.tokenizer, prompt, use_cache=True)
        uncached = complete(copilot.model, copilot.tokenizer, prompt, use_cache=False)
        assert cached == uncached, prompt


def test_unknown_prompt_characters_become_unk_with_a_warning(copilot):
    assert "\u00e9" not in copilot.tokenizer.char_to_id
    with pytest.warns(UserWarning, match="<UNK>"):
        completion = complete(copilot.model, copilot.tokenizer, "caf\u00e9 = ")
    assert isinstance(completion, str)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # known characters: no warning
        complete(copilot.model, copilot.tokenizer, "x = ")
