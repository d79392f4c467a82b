"""CharTokenizer: vocabulary building, round trips, unknown characters, bad ids, save/load."""

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch.core.tensor import Tensor
from tinytorch.text.tokenization import BPETokenizer, CharTokenizer, Tokenizer


def test_build_vocab_is_sorted_with_unk_at_zero():
    tok = CharTokenizer().build_vocab(["cab", "bad"])
    assert tok.vocab == ["<UNK>", "a", "b", "c", "d"]
    assert tok.vocab_size == 5
    assert tok.char_to_id == {"<UNK>": 0, "a": 1, "b": 2, "c": 3, "d": 4}
    assert tok.id_to_char[3] == "c"
    assert tok.encode("dab") == [4, 1, 2]
    assert tok.decode([4, 1, 2]) == "dab"


def test_build_vocab_is_deterministic_regardless_of_text_order():
    a = CharTokenizer().build_vocab(["hello", "world", "def f(x):\n    return x"])
    b = CharTokenizer().build_vocab(["def f(x):\n    return x", "world", "hello"])
    assert a.vocab == b.vocab
    assert a == b


def test_constructor_vocab_excludes_or_includes_unk():
    tok = CharTokenizer(["x", "y"])
    assert tok.vocab == ["<UNK>", "x", "y"]
    assert CharTokenizer(tok.vocab).vocab == tok.vocab  # a full vocabulary is accepted as is
    assert CharTokenizer().vocab_size == 1


def test_unknown_characters_map_to_zero_with_one_warning():
    tok = CharTokenizer().build_vocab("abc")
    with pytest.warns(UserWarning, match=r"'xz'") as record:
        ids = tok.encode("axbzx")
    assert ids == [1, 0, 2, 0, 0]
    assert len(record) == 1


def test_known_text_encodes_without_warning():
    tok = CharTokenizer().build_vocab("abc")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tok.encode("cab") == [3, 1, 2]


def test_decode_accepts_lists_arrays_tensors_and_whole_floats():
    tok = CharTokenizer().build_vocab("hi!")
    ids = tok.encode("hi!")
    assert tok.decode(np.array(ids)) == "hi!"
    assert tok.decode(Tensor(np.array(ids, dtype=np.int64))) == "hi!"
    assert tok.decode(Tensor(np.array(ids, dtype=np.float32))) == "hi!"  # TinyTorch stores ids as float32
    assert tok.decode(np.array(ids, dtype=np.int32)) == "hi!"
    assert tok.decode([]) == ""


def test_decode_padding_reads_unk_or_is_skipped():
    tok = CharTokenizer().build_vocab("ab")
    ids = tok.encode("ab") + [0, 0]
    assert tok.decode(ids) == "ab<UNK><UNK>"
    assert tok.decode(ids, skip_special=True) == "ab"


@pytest.mark.parametrize("bad", [5, -1, 100])
def test_decode_out_of_range_names_id_and_range(bad):
    tok = CharTokenizer().build_vocab("abcd")  # vocab_size 5
    with pytest.raises(ValueError, match=rf"token id {bad} is outside the vocabulary \[0, 5\)"):
        tok.decode([1, bad])


def test_decode_rejects_fractional_and_2d_ids():
    tok = CharTokenizer().build_vocab("abcd")
    with pytest.raises(ValueError, match="token id 1.5 is not a whole number"):
        tok.decode(np.array([1.0, 1.5]))
    with pytest.raises(ValueError, match=r"1-D .* shape \(2, 2\)"):
        tok.decode(np.ones((2, 2), dtype=np.int64))
    with pytest.raises(TypeError, match=r"expected token ids \(a rectangular array of ints\), got 'abc' \(str\)"):
        tok.decode("abc")


def test_bad_vocabularies():
    with pytest.raises(ValueError, match="single characters, got 'ab'"):
        CharTokenizer(["a", "ab"])
    with pytest.raises(ValueError, match=r"duplicate characters .*\['a'\]"):
        CharTokenizer(["a", "b", "a"])
    with pytest.raises(ValueError, match="contain no characters"):
        CharTokenizer().build_vocab(["", ""])
    with pytest.raises(TypeError, match="expected a str, got list"):
        CharTokenizer().build_vocab("a").encode(["a"])


def test_to_dict_is_json_and_round_trips():
    tok = CharTokenizer().build_vocab(["def add(a, b):\n    return a + b", "é\t"])
    d = json.loads(json.dumps(tok.to_dict()))
    assert d["type"] == "CharTokenizer"
    back = Tokenizer.from_dict(d)
    assert isinstance(back, CharTokenizer)
    assert back.vocab == tok.vocab
    assert CharTokenizer.from_dict(d) == tok


def test_from_dict_rejects_bad_input():
    tok = CharTokenizer().build_vocab("ab")
    d = tok.to_dict()
    with pytest.raises(ValueError, match="unknown tokenizer type 'Nope'"):
        Tokenizer.from_dict({**d, "type": "Nope"})
    with pytest.raises(ValueError, match="unsupported format_version 99"):
        Tokenizer.from_dict({**d, "format_version": 99})
    with pytest.raises(ValueError, match="describes a CharTokenizer, not a BPETokenizer"):
        BPETokenizer.from_dict(d)


def test_save_load_round_trip_is_atomic(tmp_path):
    tok = CharTokenizer().build_vocab("for i in range(10):\n    print(i)")
    path = tmp_path / "tok.json"
    tok.save(path)
    assert Tokenizer.load(path) == tok
    assert CharTokenizer.load(str(path)).encode("print") == tok.encode("print")
    assert [p.name for p in tmp_path.iterdir()] == ["tok.json"]  # no temporary file left behind
    tok2 = CharTokenizer().build_vocab("xyz")
    tok2.save(path)  # overwrite in place
    assert Tokenizer.load(path) == tok2


def test_load_of_garbage_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        Tokenizer.load(path)


@settings(max_examples=60, deadline=None)
@given(base=st.text(min_size=1, max_size=40), data=st.data())
def test_round_trip_of_any_text_over_its_characters(base, data):
    tok = CharTokenizer().build_vocab([base])
    text = data.draw(st.text(alphabet=sorted(set(base)), max_size=60))
    ids = tok.encode(text)
    assert len(ids) == len(text)
    assert all(1 <= i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == text
