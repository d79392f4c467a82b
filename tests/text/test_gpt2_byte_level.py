"""GPT-2's byte-level pieces in core: the bytes-to-unicode table and BPETokenizer.from_vocab (no extra needed)."""

from __future__ import annotations

import random

import pytest

import tinytorch as tt
from tinytorch.text.bytelevel import bytes_to_token, bytes_to_unicode, token_to_bytes

from hf_helpers import CORPUS, MIXED


def test_bytes_to_unicode_is_gpt2s_table():
    table = bytes_to_unicode()
    assert len(set(table.values())) == 256
    assert all(c.isprintable() and not c.isspace() for c in table.values())
    assert (table[ord(" ")], table[ord("\n")], table[ord("A")], table[0]) == ("\u0120", "\u010a", "A", "\u0100")
    assert token_to_bytes(bytes_to_token(bytes(range(256))), "t") == bytes(range(256))
    with pytest.raises(ValueError, match="'\u4e00'.*not in GPT-2's byte-to-unicode table"):
        token_to_bytes("a\u4e00", "vocab.json")


def test_from_vocab_with_permuted_ids_encodes_like_the_trained_tokenizer():
    """The same merges under any id order give the same tokens: ids map through the permutation."""
    trained = tt.BPETokenizer(vocab_size=320).train("".join(CORPUS))
    order = list(range(trained.vocab_size))
    random.Random(1).shuffle(order)  # new id of old id i is order[i]
    vocab = [b""] * trained.vocab_size
    for old, new in enumerate(order):
        vocab[new] = trained.vocab[old]
    merges = [(order[a], order[b]) for a, b in trained.merges]
    from tinytorch.text.bpe import SPLIT_PATTERN

    permuted = tt.BPETokenizer.from_vocab(vocab, merges, split_pattern=SPLIT_PATTERN)
    text = MIXED + "".join(CORPUS[:4])
    assert permuted.encode(text) == [order[i] for i in trained.encode(text)]
    assert permuted.decode(permuted.encode(text)) == text


def test_special_tokens_are_matched_whole():
    vocab = [bytes([b]) for b in range(256)] + [b"<|endoftext|>"]
    tok = tt.BPETokenizer.from_vocab(vocab, [], {"<|endoftext|>": 256})
    assert tok.encode("a<|endoftext|>b") == [97, 256, 98]
    assert tok.decode([97, 256, 98]) == "a<|endoftext|>b"


@pytest.mark.parametrize("vocab, merges, specials, fragment", [
    ([bytes([b]) for b in range(255)], [], {}, "lacks 1 of the 256 single bytes (e.g. 0xff)"),
    ([bytes([b]) for b in range(256)] + [b"a"], [], {}, "two ids stand for the same bytes"),
    ([bytes([b]) for b in range(256)], [(97, 98)], {}, "merge 0 is (97, 98)"),
    ([bytes([b]) for b in range(256)], [(97, 999)], {}, "merge 0 is (97, 999)"),
    ([bytes([b]) for b in range(256)] + [b"<s>"], [], {"</s>": 256}, "special token '</s>' -> 256"),
])
def test_from_vocab_rejects_inconsistent_vocabularies(vocab, merges, specials, fragment):
    with pytest.raises(ValueError) as info:
        tt.BPETokenizer.from_vocab(vocab, merges, specials)
    assert fragment in str(info.value)


def test_vocabulary_made_elsewhere_survives_to_dict_even_in_byte_order():
    """Ids 0-255 in byte order but GPT-2's pre-tokenizer: the state must still say which pre-tokenizer."""
    from tinytorch.text.tokenization import Tokenizer

    vocab = [bytes([b]) for b in range(256)] + [b"ab"]
    tok = tt.BPETokenizer.from_vocab(vocab, [(97, 98)])
    again = Tokenizer.from_dict(tok.to_dict())
    assert again == tok and again.encode("I'll ab2") == tok.encode("I'll ab2") == [73, 39, 108, 108, 32, 256, 50]
