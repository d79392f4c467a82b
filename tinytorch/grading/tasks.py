"""The algorithmic milestone tasks: copy, reversal, and a mixed prefix that says which of the two to do.

A sequence is [marker, d1..dn, marker, answer1..answern]: the marker (copy or reverse) opens the
sequence and again opens the answer. Exact match is judged by teacher forcing: the
answer is right when the arg-max at every answer position is the right token, which is exactly what
greedy decoding would produce.
"""

from __future__ import annotations

import numpy as np

PAD, SEP, COPY, REVERSE = 0, 1, 2, 3
FIRST_DIGIT, DIGITS = 4, 8
VOCAB = FIRST_DIGIT + DIGITS
LENGTH = 5  # digits per sequence
SEQ = 2 * LENGTH + 2


def sequences(task: str, n: int, rng) -> np.ndarray:
    """(n, SEQ) sequences of `task` ("copy", "reversal" or "mixed")."""
    digits = rng.integers(FIRST_DIGIT, VOCAB, size=(n, LENGTH))
    if task == "mixed":
        reverse = rng.random(n) < 0.5
    else:
        reverse = np.full(n, task == "reversal")
    marker = np.where(reverse, REVERSE, COPY)[:, None]
    answer = np.where(reverse[:, None], digits[:, ::-1], digits)
    return np.concatenate([marker, digits, marker, answer], axis=1)


def exact_match(logits: np.ndarray, seqs: np.ndarray) -> float:
    """Fraction of sequences whose whole answer is predicted right. logits (n, SEQ-1, V) for seqs[:, :-1]."""
    predicted = logits.argmax(-1)[:, LENGTH + 1:]  # positions SEP .. last-but-one predict the answer
    return float(np.mean(np.all(predicted == seqs[:, LENGTH + 2:], axis=1)))
