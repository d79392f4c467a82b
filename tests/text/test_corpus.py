"""The bundled Python-snippet corpus: valid Python, fits a 64-token window, splits held out whole."""

import ast

import pytest

from tinytorch.text.tokenization import CharTokenizer
from tinytorch.data.python_snippets import (
    FAMILY_OF, FUNCTION_NAMES, HELD_OUT_NAMES, HELD_OUT_PARAMS, MEMORIZATION_PATTERNS, SNIPPET_FAMILIES,
    SNIPPETS, arithmetic_functions, train_test_split,
)

FAMILIES = {"functions", "loops", "conditionals", "lists", "strings"}


def test_corpus_size_and_families():
    assert len(SNIPPETS) >= 60
    assert len(set(SNIPPETS)) == len(SNIPPETS)
    assert set(SNIPPET_FAMILIES) == FAMILIES
    assert all(len(v) >= 10 for v in SNIPPET_FAMILIES.values())


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_every_snippet_parses_and_fits_a_64_token_window(snippet):
    ast.parse(snippet)
    assert len(snippet) <= 60
    assert 1 <= snippet.count("\n") + 1 <= 3


def test_memorization_patterns_are_the_test_plans_with_real_newlines():
    assert MEMORIZATION_PATTERNS == [
        "def add(a, b):\n    return a + b",
        "def sub(a, b):\n    return a - b",
        "for i in range(10):\n    print(i)",
        "if x > 0:\n    print('positive')",
        "numbers = [1, 2, 3, 4, 5]",
    ]
    assert "\\n" not in "".join(MEMORIZATION_PATTERNS)
    assert all(p in SNIPPETS for p in MEMORIZATION_PATTERNS)
    for p in MEMORIZATION_PATTERNS:
        ast.parse(p)


def test_split_is_disjoint_complete_and_deterministic():
    train, test = train_test_split(SNIPPETS, n_test=5, seed=0)
    assert len(test) == 5 and len(train) == len(SNIPPETS) - 5
    assert not set(train) & set(test)
    assert set(train) | set(test) == set(SNIPPETS)
    assert train_test_split(SNIPPETS, n_test=5, seed=0) == (train, test)
    assert train_test_split(seed=0) == (train, test)  # the bundled corpus is the default
    assert [s for s in SNIPPETS if s in train] == train  # input order kept


def test_split_changes_with_the_seed():
    tests = {tuple(train_test_split(n_test=5, seed=s)[1]) for s in range(5)}
    assert len(tests) > 1


def test_split_45_5_keeps_every_family_in_training():
    fifty = SNIPPETS[:10] + SNIPPETS[14:24] + SNIPPETS[27:37] + SNIPPETS[40:50] + SNIPPETS[54:64]
    assert len(fifty) == 50
    for seed in range(10):
        train, test = train_test_split(fifty, n_test=5, seed=seed)
        assert len(train) == 45 and len(test) == 5
        assert {FAMILY_OF[s] for s in train} == FAMILIES
        assert len({FAMILY_OF[s] for s in test}) == 5  # round-robin: one per family


def test_split_holds_out_every_copy_of_a_snippet():
    doubled = SNIPPETS + SNIPPETS
    train, test = train_test_split(doubled, n_test=5, seed=1)
    assert len(test) == 5
    assert not set(train) & set(test)
    assert len(train) == 2 * (len(SNIPPETS) - 5)


def test_split_bad_inputs():
    with pytest.raises(ValueError, match=r"n_test=3 must be in \[0, 1\] for 2 distinct snippets in 1 families"):
        train_test_split(["x = 1", "y = 2"], n_test=3)
    with pytest.raises(ValueError, match="n_test=-1"):
        train_test_split(n_test=-1)
    with pytest.raises(TypeError, match="snippet 1 is a int"):
        train_test_split(["x = 1", 2])


def test_arithmetic_functions_are_valid_and_deterministic():
    fns = arithmetic_functions(seed=0)
    assert len(fns) == len(FUNCTION_NAMES) * 3
    assert fns == arithmetic_functions(seed=0)
    assert fns != arithmetic_functions(seed=1)
    for f in fns:
        tree = ast.parse(f)
        fn = tree.body[0]
        assert isinstance(fn, ast.FunctionDef) and fn.name in FUNCTION_NAMES
        p, q = [a.arg for a in fn.args.args]
        ret = fn.body[0].value
        assert isinstance(ret, ast.BinOp) and (ret.left.id, ret.right.id) == (p, q)
        assert len(f) <= 60
    assert len({f.split("(")[1].split(")")[0] for f in fns}) >= 5  # various argument names


def test_held_out_names_are_new_and_spelled_with_training_characters():
    train = arithmetic_functions()
    held = arithmetic_functions(HELD_OUT_NAMES, params=HELD_OUT_PARAMS, seed=3)
    assert not set(HELD_OUT_NAMES) & set(FUNCTION_NAMES)
    assert not any(f"def {n}(" in t for n in HELD_OUT_NAMES for t in train)
    tok = CharTokenizer().build_vocab(train)
    for h in held:
        ast.parse(h)
        assert 0 not in tok.encode(h)  # no <UNK>: the model can read and write every held-out snippet


def test_arithmetic_functions_bad_inputs():
    with pytest.raises(ValueError, match="function name 'for' is not a valid Python identifier"):
        arithmetic_functions(["for"])
    with pytest.raises(ValueError, match=r"op '@@' is not one of"):
        arithmetic_functions(ops=["@@"])
    with pytest.raises(ValueError, match=r"two distinct names, got \('a', 'a'\)"):
        arithmetic_functions(params=[("a", "a")])
    with pytest.raises(ValueError, match="0 names"):
        arithmetic_functions(names=[])
