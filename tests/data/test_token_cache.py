"""The cached id file: reused, invalidated by a changed text or tokenizer, refused and rebuilt when damaged."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from tinytorch.text.tokenization import BPETokenizer, CharTokenizer
from tinytorch.data.sources import TextSource
from tinytorch.data.token_file import open_tokens, sidecar_of
from tinytorch.data.tokenize_stream import bpe_recipe, char_recipe

TEXT = "".join(f"line {i}: the quick brown fox jumps over {i * 7 % 13} lazy dogs.\n" for i in range(400))


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def _open(path, cache, recipe=None, tokenizer=None, block_bytes=1000):
    heard = []
    tokens = open_tokens(str(cache), TextSource(str(path), block_bytes=block_bytes), recipe=recipe,
                         tokenizer=tokenizer, say=heard.append)
    return tokens, heard


def test_char_cache_holds_the_encoding_and_is_reused(text_file, tmp_path):
    cache = tmp_path / "run.tokens"
    first, heard = _open(text_file, cache, char_recipe())
    assert not first.reused and heard == []
    assert first.ids.dtype == np.uint16 and isinstance(first.ids, np.memmap)
    reference = CharTokenizer().build_vocab(TEXT)
    assert first.tokenizer == reference
    np.testing.assert_array_equal(first.ids, reference.encode(TEXT))
    assert os.path.getsize(cache) == 2 * len(TEXT)
    stamp = os.stat(cache).st_mtime_ns
    second, heard = _open(text_file, cache, char_recipe())
    assert second.reused and heard == [] and os.stat(cache).st_mtime_ns == stamp
    np.testing.assert_array_equal(second.ids, first.ids)
    resumed, _ = _open(text_file, cache, tokenizer=reference)  # a resume passes the checkpoint's tokenizer
    assert resumed.reused


def test_bpe_cache_streamed_in_small_blocks_equals_whole_text_encoding(text_file, tmp_path):
    tokens, _ = _open(text_file, tmp_path / "b.tokens", bpe_recipe(300), block_bytes=97)
    assert tokens.tokenizer == BPETokenizer(300).train(TEXT)
    assert tokens.ids.tolist() == tokens.tokenizer.encode(TEXT)


@pytest.mark.parametrize("change", ["text", "recipe", "tokenizer"])
def test_a_changed_text_or_tokenizer_rebuilds(text_file, tmp_path, change):
    cache = tmp_path / "run.tokens"
    _open(text_file, cache, char_recipe())
    if change == "text":
        text_file.write_text(TEXT.replace("fox", "cat"), encoding="utf-8")
        tokens, heard = _open(text_file, cache, char_recipe())
        assert "text changed" in heard[0]
        assert tokens.tokenizer.decode(tokens.ids[:400].tolist()).count("cat") > 0
    elif change == "recipe":
        tokens, heard = _open(text_file, cache, char_recipe(max_vocab=10))
        assert "other tokenizer settings" in heard[0] and tokens.tokenizer.vocab_size == 10
    else:
        other = CharTokenizer(sorted(set(TEXT)) + ["~"])
        tokens, heard = _open(text_file, cache, tokenizer=other)
        assert "another tokenizer" in heard[0] and tokens.tokenizer is other
    assert not tokens.reused


@pytest.mark.parametrize("damage, says", [
    (lambda ids, side: ids.write_bytes(ids.read_bytes()[:-6]), "truncated"),
    (lambda ids, side: ids.write_bytes(ids.read_bytes()[:10] + b"\x07\x00" + ids.read_bytes()[12:]), "corrupt"),
    (lambda ids, side: side.write_text("{not json", encoding="utf-8"), "unreadable"),
    (lambda ids, side: side.write_text(json.dumps({"format": "x"}), encoding="utf-8"), "not a tinytorch"),
])
def test_a_damaged_cache_is_refused_and_rebuilt(text_file, tmp_path, damage, says):
    cache = tmp_path / "run.tokens"
    good, _ = _open(text_file, cache, char_recipe())
    expected = np.array(good.ids)
    del good
    damage(cache, tmp_path / os.path.basename(sidecar_of(str(cache))))
    tokens, heard = _open(text_file, cache, char_recipe())
    assert not tokens.reused and len(heard) == 1 and says in heard[0] and "rebuilding" in heard[0]
    np.testing.assert_array_equal(tokens.ids, expected)
    again, heard = _open(text_file, cache, char_recipe())
    assert again.reused and heard == []


def test_over_65536_symbols_use_uint32(tmp_path):
    path = tmp_path / "wide.txt"
    path.write_text("".join(chr(0x10000 + i) for i in range(70_000)) + " ab", encoding="utf-8")
    tokens, _ = _open(path, tmp_path / "w.tokens", char_recipe(), block_bytes=4096)
    assert tokens.tokenizer.vocab_size > 65_536 and tokens.ids.dtype == np.uint32
    assert tokens.tokenizer.decode(tokens.ids.tolist()) == path.read_text(encoding="utf-8")
