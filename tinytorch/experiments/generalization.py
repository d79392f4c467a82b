"""The test plan's layer 2.3: does the model generalize, or only memorize?

Train on 45 snippets, hold 5 out, and compare the held-out loss with the training loss at the
early-stopping step (the first whose held-out loss is within 1% of the lowest): the model a
practitioner would keep.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..text.corpus import SNIPPET_FAMILIES, train_test_split
from ..nn.config import GPTConfig
from ..training.config import TrainConfig
from .code_model import CODE_MODEL, CODE_TRAIN, train_code_model

# A model sized for 45 snippets: small, with dropout, so it learns the families' structure
# before it memorizes; the held-out loss stops improving after about 100 steps.
GENERALIZATION_MODEL = replace(CODE_MODEL, n_embd=32, n_layer=1, dropout=0.3)
GENERALIZATION_TRAIN = replace(CODE_TRAIN, max_iters=200, weight_decay=0.1)


def corpus_of(size: int = 50) -> list[str]:
    """`size` snippets taken round-robin from the families, so every family is represented."""
    families = [list(f) for f in SNIPPET_FAMILIES.values()]
    out: list[str] = []
    while len(out) < size and any(families):
        for family in families:
            if family and len(out) < size:
                out.append(family.pop(0))
    return out


@dataclass
class GeneralizationResult:
    step: int  # the reported step: early stopping on the held-out loss
    train_loss: float
    held_out_loss: float
    evals: list = field(repr=False)  # (step, train loss, held-out loss)
    n_train: int = 0
    n_test: int = 0
    seconds: float = 0.0

    @property
    def ratio(self) -> float:
        return self.held_out_loss / self.train_loss


def covered_split(snippets: list[str], n_test: int = 5, seed: int = 0, tries: int = 100) -> tuple[list, list]:
    """A train/test split whose held-out snippets use only characters the training snippets contain.

    A character-level model cannot predict a character it never saw, so a split that holds out
    the only '+' would measure the vocabulary, not generalization. Deterministic: the first
    covered split among seeds seed, seed + 1, ...
    """
    for attempt in range(tries):
        train, test = train_test_split(snippets, n_test=n_test, seed=seed + attempt)
        if set("".join(test)) <= set("".join(train)):
            return train, test
    raise ValueError(f"covered_split: no split of {len(snippets)} snippets covers the held-out characters")


def early_stopping_point(evals: list, tolerance: float = 0.01) -> tuple:
    """The first evaluation whose held-out loss is within `tolerance` (relative) of the best one.

    On a plateau this keeps the earliest, least-fitted model, as early stopping with patience does.
    """
    best = min(e[2] for e in evals)
    return next(e for e in evals if e[2] <= best * (1 + tolerance))


def run_generalization(seed: int = 0, train: TrainConfig = GENERALIZATION_TRAIN, eval_every: int = 25,
                       model_config: GPTConfig = GENERALIZATION_MODEL) -> GeneralizationResult:
    snippets, test = covered_split(corpus_of(50), n_test=5, seed=seed)
    run = train_code_model(snippets, model_config, train, seed=seed, held_out=test, eval_every=eval_every,
                           vocab_texts=test)
    step, train_loss, held_loss = early_stopping_point(run.evals)
    return GeneralizationResult(step, train_loss, held_loss, run.evals, len(snippets), len(test), run.seconds)
