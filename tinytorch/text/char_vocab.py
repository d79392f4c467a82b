"""A character vocabulary counted over a text streamed in blocks, optionally capped: the characters that
matter stay, the rare rest share the unknown id, and a report says what was dropped."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .char_table import code_points


def count_chars(blocks) -> np.ndarray:
    """Occurrences of every code point in the str `blocks` (index = code point)."""
    counts = np.zeros(128, dtype=np.int64)
    for block in blocks:
        if block:
            found = np.bincount(code_points(block))
            if len(found) > len(counts):
                counts = np.concatenate([counts, np.zeros(len(found) - len(counts), dtype=np.int64)])
            counts[:len(found)] += found
    return counts


@dataclass
class VocabChoice:
    """The characters kept (sorted by code point) and those dropped (most frequent first, with counts)."""

    kept: list
    dropped: list = field(default_factory=list)  # [(char, count)]

    @property
    def dropped_count(self) -> int:
        return sum(n for _, n in self.dropped)

    def describe(self, limit: int = 10) -> str:
        """'' when nothing was dropped, else how many characters (and occurrences) now read <UNK>, with examples."""
        if not self.dropped:
            return ""
        examples = ", ".join(f"{c!r} x{n:,}" for c, n in self.dropped[:limit])
        more = f" and {len(self.dropped) - limit:,} more" if len(self.dropped) > limit else ""
        return (f"vocabulary capped: {len(self.dropped):,} rare character(s) ({self.dropped_count:,} occurrences) "
                f"map to <UNK>: {examples}{more}")


def choose_chars(counts: np.ndarray, max_size: int | None = None, min_count: int = 1) -> VocabChoice:
    """Keep characters seen at least `min_count` times, at most `max_size - 1` of them (the most frequent;
    ties go to the smaller code point): one id is the unknown symbol the others map to."""
    if max_size is not None and max_size < 2:
        raise ValueError(f"the vocabulary cap must be at least 2 (<UNK> and one character), got {max_size}")
    if min_count < 1:
        raise ValueError(f"the minimum character count must be at least 1, got {min_count}")
    present = np.flatnonzero(counts)
    if len(present) == 0:
        raise ValueError("the text contains no characters")
    by_freq = present[np.lexsort((present, -counts[present]))]  # most frequent first, then by code point
    n_keep = int((counts[by_freq] >= min_count).sum())
    if max_size is not None:
        n_keep = min(n_keep, max_size - 1)
    if n_keep == 0:
        raise ValueError(f"no character occurs {min_count} times or more (the most frequent one "
                         f"occurs {int(counts[by_freq[0]])} times); lower the minimum count")
    kept = [chr(c) for c in np.sort(by_freq[:n_keep])]
    dropped = [(chr(c), int(counts[c])) for c in by_freq[n_keep:]]
    return VocabChoice(kept, dropped)


__all__ = ["count_chars", "choose_chars", "VocabChoice"]
