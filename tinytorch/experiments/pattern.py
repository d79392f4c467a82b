"""The test plan's layer 2.2: does the model learn the *structure* of arithmetic functions?

Trained on `def <name>(<p>, <q>):\n    return <p> <op> <q>` for many names and argument pairs,
it must complete unseen names with unseen argument names correctly: `<p> <op> <q>` with the
prompt's own arguments, in order, and a trained operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data.python_snippets import (ARITHMETIC_OPS, FUNCTION_NAMES, HELD_OUT_NAMES, HELD_OUT_PARAMS,
                                    PARAM_PAIRS, arithmetic_functions)
from ..generation import generate
from .code_model import CodeModelConfig, train_code_model

PATTERN_CONFIG = CodeModelConfig(embed_dim=64, num_layers=2, num_heads=4, max_seq_len=64, batch_size=16,
                                 steps=800, lr=5e-3, min_lr=5e-4)


@dataclass
class PatternResult:
    accuracy: float  # fraction of held-out prompts completed correctly
    cases: list = field(repr=False)  # (prompt, completion, correct)
    train_snippets: int = 0
    seconds: float = 0.0
    final_train_loss: float = 0.0


def held_out_prompts() -> list[tuple[str, tuple[str, str]]]:
    """Prompts for names never trained on, with held-out and trained argument pairs."""
    pairs = list(HELD_OUT_PARAMS) + list(PARAM_PAIRS[:3])
    return [(f"def {name}({p}, {q}):\n    return ", (p, q)) for name in HELD_OUT_NAMES for p, q in pairs]


def greedy_line(model, tokenizer, prompt: str, max_new_tokens: int = 16) -> str:
    """Greedy completion of `prompt`, cut at the first newline or padding token."""
    prompt_ids = tokenizer.encode(prompt)
    ids = generate(model, np.asarray(prompt_ids), max_new_tokens, temperature=0.0)
    new_ids = ids[len(prompt_ids):].tolist()
    if 0 in new_ids:
        new_ids = new_ids[: new_ids.index(0)]
    return tokenizer.decode(new_ids).split("\n")[0]


def training_param_pairs(seed: int, count: int = 400) -> list[tuple[str, str]]:
    """Many argument pairs: single letters and two-letter names, never a held-out pair or name.

    Held-out pairs are unseen *combinations* (and `lo`/`hi` unseen names), so completing them
    needs the model to copy the prompt's arguments rather than recall a memorized pair.
    """
    rng = np.random.default_rng(seed)
    held_pairs = set(HELD_OUT_PARAMS)
    held_names = {name for pair in HELD_OUT_PARAMS for name in pair if len(name) > 1}
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    two_letter = sorted({a + b for a, b in rng.choice(letters, size=(80, 2))} - held_names)
    names = letters + [n for n in two_letter if n.isidentifier() and n not in ("if", "in", "is", "or", "as")]
    pairs = list(PARAM_PAIRS)
    while len(pairs) < count:
        p, q = rng.choice(names, size=2, replace=False)
        if (p, q) not in held_pairs:
            pairs.append((str(p), str(q)))
    return pairs


def training_functions(seed: int, copies: int = 8) -> list[str]:
    """`copies` snippets per (name, op), each with an argument pair drawn at random."""
    pairs = training_param_pairs(seed)
    return [s for c in range(copies)
            for s in arithmetic_functions(FUNCTION_NAMES, ARITHMETIC_OPS, seed=seed * 1000 + c, params=pairs)]


def run_pattern_learning(seed: int = 0, config: CodeModelConfig = PATTERN_CONFIG) -> PatternResult:
    train = training_functions(seed)
    prompts = held_out_prompts()
    run = train_code_model(train, config, seed=seed, vocab_texts=[p for p, _ in prompts])
    cases = []
    for prompt, (p, q) in prompts:
        completion = greedy_line(run.model, run.tokenizer, prompt)
        correct = completion in {f"{p} {op} {q}" for op in ARITHMETIC_OPS}
        cases.append((prompt, completion, correct))
    accuracy = sum(c for _, _, c in cases) / len(cases)
    return PatternResult(accuracy, cases, len(train), run.seconds, float(np.mean(run.train_losses[-20:])))
