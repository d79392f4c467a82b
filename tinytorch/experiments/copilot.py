"""The test plan's layer 5: a character-level code copilot trained on the bundled snippets.

Trains on the 45 training snippets of `train_test_split(corpus_of(50), n_test=5, seed)` (half of them
rewritten with other names, strings and numbers, see `augment.SnippetSampler`); greedy completions of
held-out and training prompts are checked for syntactic validity with `ast.parse`.
"""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass, field, replace

import numpy as np

from ..training.checkpoint import load_checkpoint, read_checkpoint
from ..nn.config import GPTConfig
from ..core.random import get_rng, manual_seed
from ..text.tokenization import CharTokenizer, Tokenizer
from ..text.corpus import SNIPPETS, train_test_split
from ..generation import generate
from ..pretrained import check_config_against_tensors
from .augment import SnippetSampler
from ..training.config import TrainConfig
from .code_model import (CODE_MODEL, CODE_TRAIN, PAD, build_model, dataset_loss, progress_callbacks, snippet_dataset,
                         with_steps)
from .generalization import corpus_of

END = PAD  # the end-of-snippet token the model learns to predict (id 0, also `<UNK>`)
EXPERIMENT = "copilot"

# Sized for speed: 48 positions hold the longest snippet (47 characters) plus its end token; 500 steps
# of 16 snippets are about 20 s on two idle cores. Fewer steps leave held-out completions less often valid.
COPILOT_MODEL = replace(CODE_MODEL, block_size=48)
COPILOT_TRAIN = replace(CODE_TRAIN, max_iters=500, learning_rate=5e-3, min_lr=5e-4)
RENAME_PROB = 0.5  # the share of training snippets seen with renamed variables (see SnippetSampler)


@dataclass
class CopilotResult:
    """A trained copilot and what its training measured."""

    model: object
    tokenizer: CharTokenizer
    initial_loss: float  # training-set loss of the untrained model
    final_loss: float  # training-set loss after training
    decrease: float  # 1 - final / initial, e.g. 0.95
    seconds: float
    train_losses: list = field(repr=False)  # batch loss at every step of this run
    trainer: object = field(default=None, repr=False)
    train: TrainConfig = COPILOT_TRAIN
    model_config: GPTConfig = COPILOT_MODEL
    seed: int = 0
    train_snippets: list = field(default_factory=list, repr=False)
    test_snippets: list = field(default_factory=list, repr=False)
    resumed_from_step: int | None = None  # the checkpoint's step when this run continued one
    resumed_loss: float | None = None  # training-set loss when the checkpoint was loaded
    dataset: object = field(default=None, repr=False)  # the training snippets, padded: for the loss
    sampler: SnippetSampler | None = field(default=None, repr=False)  # training batches


def copilot_split(seed: int = 0) -> tuple[list[str], list[str]]:
    """(45 training snippets, 5 held-out snippets) of the 50-snippet corpus."""
    return train_test_split(corpus_of(50), n_test=5, seed=seed)


def copilot_train(steps: int | None = None, base: TrainConfig = COPILOT_TRAIN) -> TrainConfig:
    """`base` with another step count (see `with_steps`); errors say they are the copilot's."""
    try:
        return with_steps(base, steps)
    except ValueError as exc:
        raise ValueError(f"copilot: {exc}") from None


def sampler_batches(sampler: SnippetSampler, batch_size: int):
    """Endless batches drawn from tinytorch's generator at each step (so a restored RNG resumes exactly)."""
    while True:
        yield sampler.batch(batch_size, get_rng())


def train_steps(trainer, sampler: SnippetSampler, batch_size: int, steps: int, progress=None) -> list[float]:
    """`steps` more optimizer steps through `Trainer.fit`; returns their training losses."""
    history = trainer.fit(sampler_batches(sampler, batch_size), steps=steps, callbacks=progress_callbacks(progress))
    return history["train_loss"][-steps:]


def new_copilot(seed: int = 0, train: TrainConfig = COPILOT_TRAIN, model_config: GPTConfig = COPILOT_MODEL) -> CopilotResult:
    """An untrained copilot (model, optimizer, schedule) on the seed's split, with its initial loss measured."""
    snippets, test = copilot_split(seed)
    manual_seed(seed)
    tokenizer = CharTokenizer().build_vocab(SNIPPETS)  # every shipped character: held-out prompts never hit <UNK>
    dataset = snippet_dataset(tokenizer, snippets, model_config.block_size)
    sampler = SnippetSampler(tokenizer, snippets, model_config.block_size, RENAME_PROB)
    model, trainer = build_model(tokenizer, model_config, train)
    initial = dataset_loss(model, dataset)
    return CopilotResult(model, tokenizer, initial, initial, 0.0, 0.0, [], trainer, train, model.config, seed,
                         snippets, test, dataset=dataset, sampler=sampler)


def continue_training(result: CopilotResult, steps: int, progress=None) -> CopilotResult:
    """Train `result` for `steps` more steps in place; updates its losses, decrease and time, and returns it."""
    start = time.perf_counter()
    losses = train_steps(result.trainer, result.sampler, result.train.batch_size, steps, progress)
    result.seconds += time.perf_counter() - start
    result.train_losses.extend(losses)
    result.final_loss = dataset_loss(result.model, result.dataset)
    result.decrease = 1.0 - result.final_loss / result.initial_loss
    return result


def run_copilot(seed: int = 0, steps: int | None = None, progress=None) -> CopilotResult:
    """Train a fresh copilot for `steps` steps (COPILOT_TRAIN.max_iters by default); deterministic per seed.

    `progress(step, loss)` is called after every step.
    """
    result = new_copilot(seed, copilot_train(steps))
    return continue_training(result, result.train.max_iters, progress)


def save_copilot(result: CopilotResult, path) -> str:
    """Model, optimizer, schedule, tokenizer, RNG, trainer state, training settings and split seed in one file
    (atomic); the config block is the CLI's: {"model": GPTConfig fields, "train": TrainConfig fields}."""
    extra = {"experiment": EXPERIMENT, "seed": result.seed, "initial_loss": result.initial_loss,
             "rename_prob": result.sampler.rename_prob}
    config = {"model": result.model_config.to_dict(), "train": result.train.to_dict()}
    return result.trainer.save_checkpoint(path, config=config, tokenizer=result.tokenizer, extra=extra)


def read_copilot_checkpoint(path, meta: dict | None = None) -> tuple[dict, GPTConfig, TrainConfig, CharTokenizer]:
    """(metadata, model shape, training settings, tokenizer) of a copilot checkpoint, restoring nothing;
    ValueError naming the file. `meta` is the header of a read the caller already made (`read_checkpoint`);
    without it the header is read."""
    meta = load_checkpoint(path) if meta is None else meta  # header only
    extra = meta.get("extra") or {}
    if extra.get("experiment") != EXPERIMENT or not isinstance(meta.get("config"), dict):
        raise ValueError(f"copilot: '{path}' is a tinytorch checkpoint but not a copilot one "
                         f"(experiment {extra.get('experiment')!r})")
    seed = extra.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"copilot: '{path}' has a malformed split seed {seed!r}")
    try:
        gpt_config = GPTConfig.from_dict(meta["config"].get("model"), source="the model config")
        train = TrainConfig.from_dict(meta["config"].get("train"), source="the training settings")
        tokenizer = Tokenizer.from_dict(meta["tokenizer"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"copilot: '{path}' has a malformed config or tokenizer: {exc}") from None
    check_config_against_tensors(path, gpt_config, meta["shapes"])  # before anything is built from it
    if not isinstance(tokenizer, CharTokenizer):
        raise ValueError(f"copilot: '{path}' holds a {type(tokenizer).__name__}, not a CharTokenizer")
    if gpt_config.vocab_size != tokenizer.vocab_size:
        raise ValueError(f"copilot: '{path}' has a model of vocab_size {gpt_config.vocab_size} but a tokenizer of "
                         f"{tokenizer.vocab_size} ids")
    return meta, gpt_config, train, tokenizer


def load_copilot(path) -> CopilotResult:
    """Fresh model, optimizer and schedule built from a checkpoint's config, then restored from it (with the RNG).

    The file is fully checked before anything is restored (FileNotFoundError / ValueError naming it).
    """
    meta, arrays = read_checkpoint(path)  # one read: the config, the tokenizer and the tensors come from it
    meta, model_config, train, tokenizer = read_copilot_checkpoint(path, meta)
    seed = meta["extra"]["seed"]
    snippets, test = copilot_split(seed)
    missing = sorted(set("".join(snippets)) - set(tokenizer.char_to_id))
    if missing:
        raise ValueError(f"copilot: '{path}' has a tokenizer without the training characters {''.join(missing)!r}")
    try:
        dataset = snippet_dataset(tokenizer, snippets, model_config.block_size)
        sampler = SnippetSampler(tokenizer, snippets, model_config.block_size,
                                 meta["extra"].get("rename_prob", RENAME_PROB))
        model, trainer = build_model(tokenizer, model_config, train)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"copilot: '{path}' has a config that builds no copilot: {exc}") from None
    trainer.restore_checkpoint(path, meta, arrays)  # model, optimizer, schedule, RNG, step
    loss = dataset_loss(model, dataset)
    initial = meta["extra"].get("initial_loss", loss)
    initial = float(initial) if isinstance(initial, (int, float)) and initial > 0 else loss
    return CopilotResult(model, tokenizer, initial, loss, 1.0 - loss / initial, 0.0, [], trainer, train, model_config,
                         seed, snippets, test, resumed_from_step=trainer.step, resumed_loss=loss, dataset=dataset,
                         sampler=sampler)


# ----- completions ---------------------------------------------------------------------------------
def completion_prompts(snippets) -> list[tuple[str, str]]:
    """(prompt, reference): the first line plus newline of a multi-line snippet, else the first half of the line."""
    out = []
    for s in snippets:
        if "\n" in s:
            first, rest = s.split("\n", 1)
            out.append((first + "\n", rest))
        else:
            half = len(s) // 2
            out.append((s[:half], s[half:]))
    return out


def complete(model, tokenizer, prompt: str, max_new_tokens: int = 48, use_cache: bool = True) -> str:
    """Greedy completion, stopped at the end token or a blank line; if neither came, cut after its last newline."""
    prompt_ids = tokenizer.encode(prompt)
    if not prompt_ids:
        raise ValueError("complete: the prompt is empty")
    ids = generate(model, np.asarray(prompt_ids), max_new_tokens, temperature=0.0, stop_ids=[END],
                   use_cache=use_cache)
    new_ids = ids[len(prompt_ids):].tolist()
    ended = END in new_ids
    if ended:
        new_ids = new_ids[: new_ids.index(END)]
    text = tokenizer.decode(new_ids)
    if "\n\n" in text:
        text, ended = text[: text.index("\n\n")], True
    if not ended:  # ran out of tokens mid-line: keep only complete lines
        text = text[: text.rfind("\n") + 1]
    return text


def is_valid_python(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):  # ValueError: source holding a NUL character
        return False
    return True


def generation_validity(model, tokenizer, prompts, max_new_tokens: int = 48) -> tuple[float, list]:
    """(fraction valid, cases) for prompts (str or (prompt, reference)); a case is (prompt, completion, valid).

    valid means `ast.parse(prompt + completion)` succeeds.
    """
    cases = []
    for item in prompts:
        prompt = item if isinstance(item, str) else item[0]  # a prompt, or a (prompt, reference) pair
        completion = complete(model, tokenizer, prompt, max_new_tokens)
        cases.append((prompt, completion, is_valid_python(prompt + completion)))
    if not cases:
        raise ValueError("generation_validity: no prompts given")
    return sum(valid for *_, valid in cases) / len(cases), cases
