"""Byte-level byte-pair encoding: 256 byte tokens plus merges learned from a corpus, so any text round-trips.

Text is first split into word-like chunks (GPT-2 style); merges never cross a chunk boundary.
`BPETokenizer.from_vocab` also holds a vocabulary made elsewhere (GPT-2's: any id order, special
tokens, GPT-2's own pre-tokenizer).
"""

from __future__ import annotations

import heapq
import re
from collections import Counter

from .bytelevel import GPT2_SPLIT_PATTERN, bytes_to_token, gpt2_split_regex, token_to_bytes
from .stream_decode import ByteStreamDecoder
from .tokenizer_base import Tokenizer
from ..core.validation import check_int, check_texts

#: Chunks: an optional space plus a run of word characters, an optional space plus a run of other
#: non-space characters, or a run of whitespace (leaving one space to lead the next word).
SPLIT_PATTERN = r" ?\w+| ?[^\s\w]+|\s+(?!\S)|\s+"
#: Our pre-tokenizer cuts runs longer than this into pieces of this many characters, so a text with few
#: spaces (one 2 MB "word") costs training and encoding what ordinary text does, not work per merge
#: proportional to the whole run. GPT-2's pattern stays uncapped, as GPT-2 itself splits.
MAX_PIECE_CHARS = 64
_SPLIT = re.compile(SPLIT_PATTERN)
_CACHE_LIMIT = 100_000
MAX_MEAN_TOKEN_BYTES = 256  # untrusted merges: the vocabulary's bytes stay linear in the file's size
#: The pre-tokenizers a BPETokenizer can use, by the pattern text stored with it.
_SPLITTERS = {SPLIT_PATTERN: lambda: _SPLIT, GPT2_SPLIT_PATTERN: gpt2_split_regex}


def capped_pieces(text: str) -> list:
    """The matches of SPLIT_PATTERN in `text`, runs longer than MAX_PIECE_CHARS cut into pieces of that length."""
    chunks = _SPLIT.findall(text)
    if max(map(len, chunks), default=0) <= MAX_PIECE_CHARS:
        return chunks
    cap = MAX_PIECE_CHARS
    return [c[i:i + cap] for c in chunks for i in range(0, len(c), cap)]


def _merge(ids: list, pair: tuple, new_id: int) -> list:
    """`ids` with every non-overlapping occurrence of `pair`, left to right, replaced by `new_id`."""
    a, b = pair
    out, i, n = [], 0, len(ids)
    while i < n:
        if i + 1 < n and ids[i] == a and ids[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _occurrences(w: list, pair: tuple) -> list:
    """Start positions of the non-overlapping occurrences of `pair` in `w`, left to right (list.index scans in C)."""
    a, b = pair
    found, j, last = [], 0, len(w) - 1
    while True:
        try:
            j = w.index(a, j, last)
        except ValueError:
            return found
        if w[j + 1] == b:
            found.append(j)
            j += 2
        else:
            j += 1


def _merge_counted(w: list, pair: tuple, new_id: int, f: int, counts: dict, changed: set) -> tuple:
    """(`w` with `pair` merged into `new_id`, the pairs it gained); `counts` changes by `f` only around each
    occurrence, so a merge costs its occurrences, not the word's length."""
    found = _occurrences(w, pair)
    if not found:
        return w, ()
    n, starts = len(w), set(found)
    out, added, prev_end = [], [], 0
    for p in found:
        out += w[prev_end:p]
        counts[pair] -= f
        if p > 0 and p - 2 not in starts:  # the left neighbour (a merged one is counted by its right side)
            old = (w[p - 1], w[p])
            new = (out[-1], new_id)
            counts[old] -= f
            counts[new] = counts.get(new, 0) + f
            changed.update((old, new))
            added.append(new)
        if p + 2 < n:
            old = (w[p + 1], w[p + 2])
            new = (new_id, new_id if p + 2 in starts else w[p + 2])
            counts[old] -= f
            counts[new] = counts.get(new, 0) + f
            changed.update((old, new))
            added.append(new)
        out.append(new_id)
        prev_end = p + 2
    out += w[prev_end:]
    changed.add(pair)
    return out, added


def _check_token_lengths(merges: list, where: str) -> None:
    """Refuse merges whose tokens would average over MAX_MEAN_TOKEN_BYTES: each merge can double a
    token's length, so 40 crafted merges would otherwise ask for 2**40 bytes."""
    budget, lengths = MAX_MEAN_TOKEN_BYTES * (256 + len(merges)), [1] * 256
    total = 256
    for i, (a, b) in enumerate(merges):
        lengths.append(lengths[a] + lengths[b])
        total += lengths[-1]
        if total > budget:
            raise ValueError(f"{where}: merge {i} brings the vocabulary to {total} bytes, over the "
                             f"{MAX_MEAN_TOKEN_BYTES} bytes per token a real BPE tokenizer stays far below")


class BPETokenizer(Tokenizer):
    """Byte-level BPE trained from scratch; `vocab_size` is 256 plus the number of learned merges.

    `train` repeatedly merges the most frequent adjacent pair (ties go to the smallest pair of ids)
    until `target_vocab_size` is reached or no pair occurs `min_frequency` times. Decoding an id
    sequence that is not valid UTF-8 (say, a model's half of an emoji) uses the replacement character.
    """

    def __init__(self, vocab_size: int = 1000):
        self.target_vocab_size = self._check_size(vocab_size, "BPETokenizer")
        self._set_merges([])

    @classmethod
    def from_vocab(cls, vocab: list, merges: list, special_tokens: dict | None = None,
                   split_pattern: str = GPT2_SPLIT_PATTERN, where: str = "BPETokenizer.from_vocab") -> "BPETokenizer":
        """A tokenizer for a vocabulary made elsewhere, e.g. GPT-2's: `vocab[id]` is the token's bytes,
        `merges` are pairs of ids by rank (each pair's bytes joined must be a token), `special_tokens`
        maps a text like '<|endoftext|>' to its id (matched whole in `encode`)."""
        special_tokens = dict(special_tokens or {})
        if not isinstance(split_pattern, str) or split_pattern not in _SPLITTERS:
            raise ValueError(f"{where}: unsupported split pattern {split_pattern!r:.80}")
        if not isinstance(vocab, list) or not all(isinstance(t, bytes) and t for t in vocab):
            raise ValueError(f"{where}: vocab must be a list of non-empty bytes (one per id)")
        ids = {t: i for i, t in enumerate(vocab)}
        if len(ids) != len(vocab):
            raise ValueError(f"{where}: two ids stand for the same bytes; a BPE vocabulary needs distinct tokens")
        missing = [b for b in range(256) if bytes([b]) not in ids]
        if missing:
            raise ValueError(f"{where}: the vocabulary lacks {len(missing)} of the 256 single bytes (e.g. "
                             f"{missing[0]:#04x}); a byte-level tokenizer needs all of them")
        for i, p in enumerate(merges):
            ok = (isinstance(p, (list, tuple)) and len(p) == 2
                  and all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x < len(vocab) for x in p))
            if not ok or vocab[p[0]] + vocab[p[1]] not in ids:
                raise ValueError(f"{where}: merge {i} is {p!r:.60}; expected two ids in [0, {len(vocab)}) "
                                 f"whose joined bytes are a token")
        for text, i in special_tokens.items():
            if not isinstance(text, str) or not isinstance(i, int) or not 0 <= i < len(vocab) \
                    or vocab[i] != text.encode("utf-8"):
                raise ValueError(f"{where}: special token {text!r:.40} -> {i!r} does not name its own id in the vocab")
        tok = cls(max(len(vocab), 256))
        tok.split_pattern, tok.special_tokens = split_pattern, special_tokens
        tok._set_merges(merges, vocab)
        return tok

    @staticmethod
    def _check_size(vocab_size, where: str) -> int:
        if check_int(vocab_size, "vocab_size", where) < 256:
            raise ValueError(f"{where}: vocab_size must be at least 256 (the byte tokens), got {vocab_size}")
        return vocab_size

    def _set_merges(self, merges: list, vocab: list | None = None) -> None:
        """Install merges (pairs of ids, by rank). Without `vocab`, the layout `train` makes: ids 0-255
        are the bytes and merge r makes id 256 + r; with it (checked by `from_vocab`), ids come from it."""
        self.merges = [tuple(p) for p in merges]
        self._ranks = {p: rank for rank, p in enumerate(self.merges)}
        if vocab is None:
            self.split_pattern, self.special_tokens = SPLIT_PATTERN, {}
            vocab = [bytes([i]) for i in range(256)]
            for a, b in self.merges:
                vocab.append(vocab[a] + vocab[b])
            self._byte_ids = list(range(256))
            self._merge_ids = list(range(256, 256 + len(self.merges)))
        else:
            ids = {t: i for i, t in enumerate(vocab)}
            self._byte_ids = [ids[bytes([b])] for b in range(256)]
            self._merge_ids = [ids[vocab[a] + vocab[b]] for a, b in self.merges]
        self.vocab = vocab  # index = id, value = the bytes it stands for
        self._split = _SPLITTERS[self.split_pattern]()
        specials = sorted(self.special_tokens, key=len, reverse=True)  # longest first, as HF matches them
        self._special_split = re.compile("(" + "|".join(map(re.escape, specials)) + ")") if specials else None
        self._cache = {}

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    # ----- training ---------------------------------------------------------------------------------
    def train(self, corpus, vocab_size: int | None = None, min_frequency: int = 2, progress=None) -> "BPETokenizer":
        """Learn merges from `corpus` (a str or a list of str); replaces any earlier merges."""
        target = self.target_vocab_size if vocab_size is None else self._check_size(vocab_size, "BPETokenizer.train")
        texts = check_texts(corpus, "corpus", "BPETokenizer.train")
        check_int(min_frequency, "min_frequency", "BPETokenizer.train", minimum=1)
        if not any(texts):
            raise ValueError(f"BPETokenizer.train: the corpus is empty ({len(texts)} texts, 0 characters)")

        chunk_counts = Counter()
        for t in texts:
            chunk_counts.update(capped_pieces(t))
        return self.train_from_counts(chunk_counts, target, min_frequency, progress)

    def train_from_counts(self, chunk_counts: dict, vocab_size: int | None = None, min_frequency: int = 2,
                          progress=None) -> "BPETokenizer":
        """Learn merges from pre-token counts ({piece: count}, pieces as `pieces` makes them), so a corpus can
        be counted block by block; `progress(merges_done, merges_wanted)` is called as merges are learned."""
        target = self.target_vocab_size if vocab_size is None else self._check_size(vocab_size, "BPETokenizer.train")
        words = [list(chunk.encode("utf-8")) for chunk in chunk_counts]
        freqs = list(chunk_counts.values())

        # Pair counts weighted by chunk frequency, the chunks each pair occurs in, and a max-heap
        # of (-count, pair) whose stale entries are skipped when popped.
        counts: dict = {}
        where: dict = {}
        for wi, w in enumerate(words):
            for p in zip(w, w[1:]):
                counts[p] = counts.get(p, 0) + freqs[wi]
                where.setdefault(p, set()).add(wi)
        heap = [(-c, p) for p, c in counts.items()]
        heapq.heapify(heap)

        merges = []
        while 256 + len(merges) < target:
            while heap and counts.get(heap[0][1], 0) != -heap[0][0]:
                heapq.heappop(heap)
            if not heap or -heap[0][0] < min_frequency:
                break
            _, pair = heapq.heappop(heap)
            new_id = 256 + len(merges)
            merges.append(pair)
            if progress is not None and len(merges) % 16 == 0:
                progress(len(merges), target - 256)
            changed = set()
            for wi in where.pop(pair):
                words[wi], added = _merge_counted(words[wi], pair, new_id, freqs[wi], counts, changed)
                for p in added:
                    where.setdefault(p, set()).add(wi)
            for p in changed:
                c = counts[p]
                if c > 0:
                    heapq.heappush(heap, (-c, p))
                else:
                    del counts[p]
        self.target_vocab_size = target
        self._set_merges(merges)
        return self

    # ----- encoding ---------------------------------------------------------------------------------
    def pieces(self, text: str) -> list:
        """The pre-tokens of `text` that merges never cross (see `capped_pieces`; GPT-2's pattern is uncapped)."""
        return capped_pieces(text) if self.split_pattern == SPLIT_PATTERN else self._split.findall(text)

    def _encode_chunk(self, chunk: str) -> list:
        byte_ids, ranks, merge_ids = self._byte_ids, self._ranks, self._merge_ids
        ids = [byte_ids[b] for b in chunk.encode("utf-8")]
        while len(ids) >= 2:
            pair = min(zip(ids, ids[1:]), key=lambda p: ranks.get(p, 1 << 62))
            rank = ranks.get(pair)
            if rank is None:
                break
            ids = _merge(ids, pair, merge_ids[rank])
        return ids

    def encode(self, text: str) -> list[int]:
        """Token ids for `text`; `decode(encode(text)) == text` for every str."""
        if not isinstance(text, str):
            raise TypeError(f"BPETokenizer.encode: expected a str, got {type(text).__name__}")
        # Special tokens are matched first and never split; the pieces between them are chunked.
        pieces = [text] if self._special_split is None else self._special_split.split(text)
        out = []
        for i, piece in enumerate(pieces):
            if i % 2:  # odd pieces are the separators: special tokens
                out.append(self.special_tokens[piece])
                continue
            self.encode_pieces(self.pieces(piece), out)
        return out

    def encode_pieces(self, pieces: list, out: list) -> list:
        """Append the ids of `pieces` (from `pieces`) to `out`, each distinct piece encoded once."""
        cache = self._cache
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        for chunk in pieces:
            ids = cache.get(chunk)
            if ids is None:
                ids = cache[chunk] = self._encode_chunk(chunk)
            out.extend(ids)
        return out

    def decode(self, ids) -> str:
        """The text for `ids` (list, ndarray or Tensor); invalid UTF-8 becomes U+FFFD."""
        ids = self._ids_to_decode(ids, "BPETokenizer.decode")
        vocab = self.vocab
        return b"".join(vocab[t] for t in ids).decode("utf-8", errors="replace")

    def stream_decoder(self) -> ByteStreamDecoder:
        """Ids decoded as they come: bytes of an unfinished character wait for the token that ends it."""
        return ByteStreamDecoder(self.vocab)

    def token_text(self, token_id: int) -> str:
        """A readable form of one token (its bytes decoded with replacement), for inspection."""
        return self.decode([token_id])

    # ----- serialisation ----------------------------------------------------------------------------
    def _state(self) -> dict:
        state = {"target_vocab_size": self.target_vocab_size, "split_pattern": self.split_pattern,
                 "merges": [list(p) for p in self.merges]}
        if not self._has_trained_layout():
            # A vocabulary made elsewhere: its tokens in GPT-2's printable form, and its special tokens.
            state["vocab"] = [bytes_to_token(t) for t in self.vocab]
            state["special_tokens"] = dict(self.special_tokens)
        return state

    def _has_trained_layout(self) -> bool:
        """True for what `train` makes: bytes are ids 0-255, merge r makes id 256 + r, our split pattern."""
        return (self.split_pattern == SPLIT_PATTERN and not self.special_tokens and self._byte_ids == list(range(256))
                and len(self.vocab) == 256 + len(self.merges)
                and self._merge_ids == list(range(256, 256 + len(self.merges))))

    @classmethod
    def _from_state(cls, state: dict) -> "BPETokenizer":
        where = "BPETokenizer.from_dict"
        if "vocab" in state:
            return cls._from_vocab_state(state, where)
        if state.get("split_pattern") != SPLIT_PATTERN:
            raise ValueError(f"{where}: saved with split pattern {state.get('split_pattern')!r:.80}, "
                             f"this version uses {SPLIT_PATTERN!r}")
        merges = state.get("merges")
        if not isinstance(merges, list):
            raise ValueError(f"{where}: 'merges' must be a list, got {merges!r:.60}")
        for i, p in enumerate(merges):
            ok = (isinstance(p, (list, tuple)) and len(p) == 2
                  and all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 256 + i for x in p))
            if not ok:
                raise ValueError(f"{where}: merge {i} is {p!r:.60}; expected two ids in [0, {256 + i})")
        _check_token_lengths(merges, where)
        tok = cls(state.get("target_vocab_size", 256 + len(merges)))
        tok._set_merges(merges)
        return tok

    @classmethod
    def _from_vocab_state(cls, state: dict, where: str) -> "BPETokenizer":
        vocab, specials = state.get("vocab"), state.get("special_tokens", {})
        if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab):
            raise ValueError(f"{where}: 'vocab' must be a list of token strings")
        if not isinstance(specials, dict):
            raise ValueError(f"{where}: 'special_tokens' must be a dict, got {specials!r:.60}")
        merges = state.get("merges")
        if not isinstance(merges, list):
            raise ValueError(f"{where}: 'merges' must be a list, got {merges!r:.60}")
        vocab = [token_to_bytes(t, where) for t in vocab]
        return cls.from_vocab(vocab, merges, specials, state.get("split_pattern"), where)

    def __eq__(self, other) -> bool:
        return (isinstance(other, BPETokenizer) and self.merges == other.merges and self.vocab == other.vocab
                and self.split_pattern == other.split_pattern and self.special_tokens == other.special_tokens)

    __hash__ = None

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self.merges)})"
