"""The vectorized char encoding equals the per-character one; the vocabulary cap keeps what matters and says what it dropped."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tinytorch.text.tokenization import CharTokenizer
from tinytorch.text.char_table import CharTable
from tinytorch.text.char_vocab import choose_chars, count_chars


def _per_char(tokenizer, text):
    """The encoding before vectorization: one dict lookup per character."""
    return [tokenizer.char_to_id.get(c, 0) for c in text]


@pytest.mark.parametrize("seed", range(4))
def test_vectorized_encoding_equals_the_per_character_loop(seed):
    rng = np.random.default_rng(seed)
    alphabet = list("abc xyz\n\t") + ["é", "\u4e2d", "\U0001F600", "\ud800", "\x7f", "\U0010FFFF"]
    text = "".join(rng.choice(alphabet, size=2000))
    vocab = CharTokenizer().build_vocab(text[:1000] or "a")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert vocab.encode(text) == _per_char(vocab, text)
    table = CharTable(vocab.char_to_id)
    unknown = {c for c in text if c not in vocab.char_to_id}
    assert table.unknown(text) == sorted(unknown)


def test_unknown_characters_still_warn_once_naming_them():
    tok = CharTokenizer().build_vocab("abc")
    with pytest.warns(UserWarning, match="'xz'"):
        assert tok.encode("azbx") == [1, 0, 2, 0]


def test_the_cap_keeps_the_most_frequent_and_reports_the_rest():
    text = "a" * 50 + "b" * 40 + "c" * 30 + "d" * 2 + "e" * 2 + "f"
    counts = count_chars([text[:17], text[17:]])
    capped = choose_chars(counts, max_size=4)
    assert capped.kept == ["a", "b", "c"]
    assert capped.dropped == [("d", 2), ("e", 2), ("f", 1)] and capped.dropped_count == 5
    assert "3 rare character(s) (5 occurrences)" in capped.describe() and "'d' x2" in capped.describe()
    by_count = choose_chars(counts, min_count=2)
    assert by_count.kept == ["a", "b", "c", "d", "e"] and by_count.dropped == [("f", 1)]
    assert choose_chars(counts).describe() == ""
    tok = CharTokenizer(capped.kept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tok.encode("adf") == [1, 0, 0]


@pytest.mark.parametrize("kwargs, fragment", [({"max_size": 1}, "at least 2"), ({"min_count": 0}, "at least 1"),
                                              ({"min_count": 99}, "no character occurs 99 times")])
def test_bad_caps_are_value_errors(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        choose_chars(count_chars(["aab"]), **kwargs)
