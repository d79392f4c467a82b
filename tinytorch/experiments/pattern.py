"""The test plan's layer 2.2: does the model learn the *structure* of arithmetic functions?

Trained on `def <name>(<p>, <q>):\n    return <p> <op> <q>` for many function names, it must
complete functions whose names it never saw: `<p> <op> <q>` with the prompt's own arguments,
in order, and a trained operator. A harder variant also holds out the argument names.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field, replace

import numpy as np

from ..text.corpus import (ARITHMETIC_OPS, FUNCTION_NAMES, HELD_OUT_NAMES, HELD_OUT_PARAMS,
                                    PARAM_PAIRS, arithmetic_functions)
from ..generation import generate
from ..nn.config import GPTConfig
from ..training.config import TrainConfig
from .code_model import CODE_MODEL, CODE_TRAIN, train_code_model

PATTERN_MODEL = CODE_MODEL
PATTERN_TRAIN = replace(CODE_TRAIN, max_iters=300, learning_rate=1e-2, min_lr=1e-3)


@dataclass
class PatternResult:
    accuracy: float  # unseen function names, trained argument names: the plan's measure
    cases: list = field(repr=False)  # (prompt, completion, correct)
    unseen_args_accuracy: float = 0.0  # unseen function names and unseen argument names
    unseen_args_cases: list = field(default_factory=list, repr=False)
    train_snippets: int = 0
    seconds: float = 0.0


def prompts_for(names, pairs) -> list[tuple[str, tuple[str, str]]]:
    return [(f"def {name}({p}, {q}):\n    return ", (p, q)) for name in names for p, q in pairs]


def training_names(seed: int, count: int = 100) -> list[str]:
    """The corpus' function names plus random identifiers of 2-10 letters (never a held-out name).

    Varied lengths put the arguments at many different positions, so the model must find them
    by content rather than at a fixed offset.
    """
    rng = np.random.default_rng(seed)
    letters = np.array([chr(c) for c in range(ord("a"), ord("z") + 1)])
    names = list(FUNCTION_NAMES)
    while len(names) < count:
        name = "".join(rng.choice(letters, size=int(rng.integers(2, 11))))
        if name not in HELD_OUT_NAMES and name not in names and not keyword.iskeyword(name):
            names.append(name)
    return names


def training_functions(seed: int, copies: int = 2) -> list[str]:
    """`copies` snippets per (name, op), each with one of the corpus' argument pairs."""
    names = training_names(seed)
    return [s for c in range(copies)
            for s in arithmetic_functions(names, ARITHMETIC_OPS, seed=seed * 1000 + c, params=PARAM_PAIRS)]


def greedy_line(model, tokenizer, prompt: str, max_new_tokens: int = 16) -> str:
    """Greedy completion of `prompt`, cut at the end token (0) or the first newline."""
    prompt_ids = tokenizer.encode(prompt)
    ids = generate(model, np.asarray(prompt_ids), max_new_tokens, temperature=0.0)
    new_ids = ids[len(prompt_ids):].tolist()
    if 0 in new_ids:
        new_ids = new_ids[: new_ids.index(0)]
    return tokenizer.decode(new_ids).split("\n")[0]


def score(model, tokenizer, prompts) -> tuple[float, list]:
    """Fraction of prompts completed as `<p> <op> <q>` with a trained operator, and the cases."""
    cases = []
    for prompt, (p, q) in prompts:
        completion = greedy_line(model, tokenizer, prompt)
        cases.append((prompt, completion, completion in {f"{p} {op} {q}" for op in ARITHMETIC_OPS}))
    return sum(c for _, _, c in cases) / len(cases), cases


def run_pattern_learning(seed: int = 0, train: TrainConfig = PATTERN_TRAIN,
                         model_config: GPTConfig = PATTERN_MODEL) -> PatternResult:
    snippets = training_functions(seed)
    unseen_names = prompts_for(HELD_OUT_NAMES, PARAM_PAIRS)
    unseen_both = prompts_for(HELD_OUT_NAMES, HELD_OUT_PARAMS)
    run = train_code_model(snippets, model_config, train, seed=seed, vocab_texts=[p for p, _ in unseen_names + unseen_both])
    accuracy, cases = score(run.model, run.tokenizer, unseen_names)
    both_accuracy, both_cases = score(run.model, run.tokenizer, unseen_both)
    return PatternResult(accuracy, cases, both_accuracy, both_cases, len(snippets), run.seconds)
