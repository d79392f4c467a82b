"""The mutation catalog: every planted bug fails the check that should catch it (docs/GRADING.md's table)."""

from __future__ import annotations

import pytest

from tinytorch.grading.data import grading_data
from tinytorch.grading.mutants.catalog import MUTANTS, grade_mutant


@pytest.fixture(scope="module")
def data():
    return grading_data()


def test_the_catalog_is_at_least_thirty_bugs_with_known_checks():
    from tinytorch.grading.registry import CHECKS

    assert len(MUTANTS) >= 30
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    assert all(m.expected in CHECKS for m in MUTANTS)


@pytest.mark.slow
@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_each_planted_bug_fails_its_check(mutant, data):
    if mutant.source == "pytorch":
        pytest.importorskip("torch")
    outcomes = {o.name: o for o in grade_mutant(mutant, data)}
    caught = outcomes[mutant.expected]
    assert caught.passed is False, f"{mutant.name} ({mutant.bug}) passed {mutant.expected}: {caught.measured}"
    assert caught.cause, f"{mutant.expected} failed without a likely cause"
