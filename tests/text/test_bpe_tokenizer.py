"""BPETokenizer: hand-computed merges, agreement with a naive trainer, round trips, save/load, bad input."""

import json
import re
import time
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch.text.bpe import SPLIT_PATTERN
from tinytorch.core.tensor import Tensor
from tinytorch.text.tokenization import BPETokenizer, Tokenizer
from tinytorch.data.python_snippets import SNIPPETS, arithmetic_functions
from tinytorch.text.tokenization import BPETokenizer as AliasBPE

HANG_LIMIT_S = 60.0  # seconds: a hang limit, not a speed target (it takes about a second)


def naive_merge(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids):
        if tuple(ids[i:i + 2]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def naive_train(texts, vocab_size, min_frequency=2):
    """Reference trainer: recount every pair before each merge; ties go to the smallest pair."""
    chunks = Counter(c for t in texts for c in re.findall(SPLIT_PATTERN, t))
    words = [(list(c.encode("utf-8")), f) for c, f in chunks.items()]
    merges = []
    while 256 + len(merges) < vocab_size:
        counts = Counter()
        for w, f in words:
            for p in zip(w, w[1:]):
                counts[p] += f
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        if counts[best] < min_frequency:
            break
        merges.append(best)
        words = [(naive_merge(w, best, 255 + len(merges)), f) for w, f in words]
    return merges


@pytest.fixture(scope="module")
def snippet_bpe():
    return BPETokenizer(vocab_size=400).train(SNIPPETS + arithmetic_functions())


def test_wikipedia_example_merges_by_hand():
    # "aaabdaaabac": aa occurs 4 times -> 256; then ab (97, 98) and (256, 97) tie at 2 and the
    # smaller pair wins -> 257 = ab; then (256, 257) occurs twice -> 258; every other pair is single.
    tok = BPETokenizer(vocab_size=300).train("aaabdaaabac")
    assert tok.merges == [(97, 97), (97, 98), (256, 257)]
    assert tok.vocab_size == 259
    assert tok.vocab[256:] == [b"aa", b"ab", b"aaab"]
    assert tok.encode("aaabdaaabac") == [258, 100, 258, 97, 99]


def test_ties_go_to_the_smaller_pair_and_merges_stay_inside_chunks():
    # Chunks "xyxy" and " yzyz": xy = (120, 121) and yz = (121, 122) both occur twice.
    tok = BPETokenizer(vocab_size=300).train("xyxy yzyz")
    assert tok.merges == [(120, 121), (121, 122)]
    # "ab ab ab": chunks "ab", " ab", " ab": ab x3 -> 256, then (space, ab) x2 -> 257.
    tok = BPETokenizer(vocab_size=300).train("ab ab ab")
    assert tok.merges == [(97, 98), (32, 256)]
    assert tok.encode("ab ab") == [256, 257]
    assert tok.encode("abab") == [256, 256]  # no space merge inside one chunk


def test_vocab_size_caps_the_merges_and_min_frequency_one_continues():
    assert BPETokenizer(vocab_size=257).train("aaabdaaabac").merges == [(97, 97)]
    tok = BPETokenizer(vocab_size=300).train("aaabdaaabac", min_frequency=1)
    assert tok.merges[:3] == [(97, 97), (97, 98), (256, 257)]
    assert tok.encode("aaabdaaabac") == [tok.vocab_size - 1]  # merged down to one token


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(st.text(alphabet="ab c\nd", max_size=40), min_size=1, max_size=8),
       vocab_size=st.integers(256, 320), min_frequency=st.integers(1, 3))
def test_incremental_training_matches_naive_recount(texts, vocab_size, min_frequency):
    if not any(texts):
        with pytest.raises(ValueError, match="corpus is empty"):
            BPETokenizer(vocab_size).train(texts)
        return
    tok = BPETokenizer(vocab_size).train(texts, min_frequency=min_frequency)
    assert tok.merges == naive_train(texts, vocab_size, min_frequency)
    for t in texts:
        assert tok.decode(tok.encode(t)) == t


def test_incremental_training_matches_naive_recount_on_the_snippets():
    corpus = SNIPPETS + arithmetic_functions()
    assert BPETokenizer(420).train(corpus).merges == naive_train(corpus, 420)
    assert BPETokenizer(330).train(corpus, min_frequency=1).merges == naive_train(corpus, 330, 1)


def test_training_is_deterministic_and_str_equals_one_item_list():
    corpus = "\n".join(SNIPPETS)
    a = BPETokenizer(350).train(corpus)
    b = BPETokenizer(350).train([corpus])
    assert a.merges == b.merges and len(a.merges) == 94
    assert a == b


def test_untrained_tokenizer_is_plain_utf8_bytes():
    tok = BPETokenizer()
    assert tok.vocab_size == 256
    assert tok.encode("hé") == [104, 195, 169]
    assert tok.decode([104, 195, 169]) == "hé"


def test_encoding_compresses_code(snippet_bpe):
    text = "def add(a, b):\n    return a + b"
    ids = snippet_bpe.encode(text)
    assert len(ids) < len(text.encode("utf-8")) / 2
    assert snippet_bpe.decode(ids) == text


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=80))
def test_any_unicode_text_round_trips(snippet_bpe, text):
    ids = snippet_bpe.encode(text)
    assert all(0 <= i < snippet_bpe.vocab_size for i in ids)
    assert snippet_bpe.decode(ids) == text


@settings(max_examples=30, deadline=None)
@given(text=st.text(min_size=1, max_size=60))
def test_tokenizer_trained_on_a_text_round_trips_it(text):
    tok = BPETokenizer(300).train(text, min_frequency=1)
    assert tok.decode(tok.encode(text)) == text


def test_emoji_and_mixed_scripts_round_trip(snippet_bpe):
    text = "print('héllo wörld 🙂👍🏽')  # 日本語 \t\r\n  done"
    assert snippet_bpe.decode(snippet_bpe.encode(text)) == text
    assert snippet_bpe.decode(Tensor(np.array(snippet_bpe.encode(text)))) == text


def test_half_a_character_decodes_to_the_replacement_character():
    tok = BPETokenizer()
    assert tok.decode(tok.encode("🙂")[:2]) == "\ufffd"


def test_to_dict_json_and_save_load_round_trip(snippet_bpe, tmp_path):
    d = json.loads(json.dumps(snippet_bpe.to_dict()))
    assert d["type"] == "BPETokenizer"
    back = Tokenizer.from_dict(d)
    assert isinstance(back, BPETokenizer) and back.merges == snippet_bpe.merges
    assert back.vocab_size == snippet_bpe.vocab_size
    path = tmp_path / "bpe.json"
    snippet_bpe.save(path)
    loaded = AliasBPE.load(path)
    text = "for i in range(10):\n    print(i)"
    assert loaded.encode(text) == snippet_bpe.encode(text)
    assert [p.name for p in tmp_path.iterdir()] == ["bpe.json"]


def test_bad_inputs():
    with pytest.raises(ValueError, match="vocab_size must be at least 256 .*got 255"):
        BPETokenizer(vocab_size=255)
    with pytest.raises(ValueError, match="at least 256 .*got 10"):
        BPETokenizer().train("abc", vocab_size=10)
    with pytest.raises(ValueError, match=r"corpus is empty \(1 texts"):
        BPETokenizer().train("")
    with pytest.raises(ValueError, match=r"corpus is empty \(0 texts"):
        BPETokenizer().train([])
    with pytest.raises(TypeError, match=r"corpus item 1 must be a str, got 3 \(int\)"):
        BPETokenizer().train(["abc", 3])
    tok = BPETokenizer(300).train("aaabdaaabac")
    with pytest.raises(ValueError, match=r"token id 259 is outside the vocabulary \[0, 259\)"):
        tok.decode([97, 259])
    with pytest.raises(ValueError, match=r"merge 0 is \[256, 97\]; expected two ids in \[0, 256\)"):
        BPETokenizer.from_dict({**tok.to_dict(), "merges": [[256, 97]]})


def test_failed_training_leaves_the_tokenizer_unchanged():
    tok = BPETokenizer(300).train("aaabdaaabac")
    with pytest.raises(ValueError):
        tok.train("")
    assert tok.merges == [(97, 97), (97, 98), (256, 257)]


def test_training_on_a_50kb_corpus_is_fast():
    rng = np.random.default_rng(0)
    pieces = SNIPPETS + arithmetic_functions() + [f"x{i} = {int(v)}" for i, v in enumerate(rng.integers(0, 10**6, 400))]
    corpus = []
    while sum(map(len, corpus)) < 50_000:
        corpus.append(pieces[int(rng.integers(len(pieces)))])
    start = time.perf_counter()
    tok = BPETokenizer(vocab_size=2000).train(corpus)
    elapsed = time.perf_counter() - start
    assert len(tok.merges) > 300
    assert elapsed < HANG_LIMIT_S, f"training took {elapsed:.2f}s"  # a hang limit; speed is for benchmarks/
    joined = "\n".join(corpus)
    assert tok.decode(tok.encode(joined)) == joined
