"""Our pre-tokenizers in `re` cut text where Hugging Face's `tokenizers` library does, on thousands of random strings."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from tinytorch.text.bpe import SPLIT_PATTERN
from tinytorch.text.bytelevel import bytes_to_token, gpt2_split_regex
from tinytorch.hf.tokenizer import HF_SPLIT_PATTERN

from hf_helpers import MIXED

pytest.importorskip("transformers")  # the hf extra, which brings the tokenizers library compared with here
tokenizers = pytest.importorskip("tokenizers")


def _random_texts(count: int, seed: int = 0) -> list:
    """Strings over assigned code points of many categories, weighted towards spaces, digits and contractions."""
    rng = random.Random(seed)
    pool = [chr(c) for c in range(0x3000) if unicodedata.category(chr(c)) != "Cn"]
    pool += list(" \n\t\r\x0b\x1c\x1f\x85\xa0\u2003\u3000") * 200 + list("0123456789²½Ⅻ一_'sdtlmrve") * 100
    return [MIXED] + ["".join(rng.choice(pool) for _ in range(rng.randint(1, 40))) for _ in range(count)]


def test_pre_tokenizer_splits_like_the_tokenizers_library():
    theirs = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    regex = gpt2_split_regex()
    for text in _random_texts(2000):
        expected = [piece for piece, _ in theirs.pre_tokenize_str(text)]
        assert [bytes_to_token(p.encode("utf-8")) for p in regex.findall(text)] == expected, repr(text)


def test_our_split_pattern_written_for_hugging_face_splits_the_same():
    """An exported BPE tokenizer's pre-tokenizer (HF_SPLIT_PATTERN) cuts text where ours (SPLIT_PATTERN) does."""
    theirs = tokenizers.pre_tokenizers.Split(tokenizers.Regex(HF_SPLIT_PATTERN), "isolated")
    ours = re.compile(SPLIT_PATTERN)
    for text in _random_texts(2000, seed=1):
        assert [piece for piece, _ in theirs.pre_tokenize_str(text)] == ours.findall(text), repr(text)
