"""Milestone 05 (2017, "Attention Is All You Need"): train a character-level code copilot with tinytorch.

Trains a small GPT on 45 bundled Python snippets, saves a checkpoint, completes held-out prompts and
marks whether each completion parses; then, on a terminal, completes prompts you type.

Prompt characters the model never saw are encoded as `<UNK>` (id 0) with a warning, not rejected:
a prompt is still completed, though an unknown character reads to the model like an end of snippet.

Exit status: 0 on success; 1 with --train-only when the loss decreased by 80% or less (the test
plan's layer 5.1); 2 on bad input (bad numbers, a missing or unreadable --resume checkpoint, one of
another model shape). The checkpoint is written only after a successful run, atomically.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from tqdm import tqdm

from tinytorch.experiments.copilot import (complete, completion_prompts, copilot_train, generation_validity,
                                           is_valid_python, load_copilot, new_copilot, continue_training,
                                           read_copilot_checkpoint, save_copilot)

DEFAULT_CHECKPOINT = os.path.join("checkpoints", "copilot.safetensors")
REQUIRED_DECREASE = 0.80  # the test plan's layer 5.1: loss decrease > 80%


class UsageError(Exception):
    """Bad command-line input: reported as one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise UsageError(message)


def _count(text: str, name: str, minimum: int) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise UsageError(f"{name} must be a whole number, got {text!r}") from None
    if value < minimum:
        raise UsageError(f"{name} must be >= {minimum}, got {value}")
    return value


def parse_args(argv):
    parser = _Parser(
        prog="vaswani_copilot.py",
        description="Train a character-level Python copilot (a tinytorch GPT) and complete code with it.",
        epilog="Prompt characters outside the model's vocabulary are encoded as <UNK> (id 0) with a warning, "
               "and the prompt is still completed. In the interactive loop, type \\n for a newline; an empty "
               "line or end of input quits. Exit status: 0 ok, 1 loss decrease <= 80% (--train-only), 2 bad input.")
    parser.add_argument("--train-only", action="store_true",
                        help="train, report, save the checkpoint and exit (status 1, nothing saved, if the decrease is <= 80%%)")
    parser.add_argument("--steps", metavar="N", help="training steps (default: the copilot settings'; "
                        "with --resume, that many more steps)")
    parser.add_argument("--seed", metavar="S", help="seed for the split, the initialisation and the batches (default 0)")
    parser.add_argument("--checkpoint", metavar="PATH", default=DEFAULT_CHECKPOINT,
                        help=f"where to save the trained model (default {DEFAULT_CHECKPOINT})")
    parser.add_argument("--resume", metavar="PATH", help="continue training from a checkpoint this script saved")
    args = parser.parse_args(argv)
    args.steps = None if args.steps is None else _count(args.steps, "--steps", 1)
    args.seed = None if args.seed is None else _count(args.seed, "--seed", 0)
    if os.path.isdir(args.checkpoint):
        raise UsageError(f"--checkpoint {args.checkpoint!r} is a directory; give a file path")
    return args


def prepare(args):
    """An untrained or restored copilot, and the number of steps to train; UsageError on bad input."""
    if args.resume is None:
        return new_copilot(args.seed or 0, copilot_train(args.steps)), None
    if not os.path.isfile(args.resume):
        raise UsageError(f"--resume: no checkpoint file at {args.resume!r}")
    try:
        meta, *_ = read_copilot_checkpoint(args.resume)
        if args.seed is not None and args.seed != meta["extra"]["seed"]:
            raise UsageError(f"--seed {args.seed} differs from the checkpoint's seed {meta['extra']['seed']}; "
                             f"a resumed run keeps its seed (drop --seed)")
        result = load_copilot(args.resume)
    except (ValueError, OSError) as exc:
        raise UsageError(f"--resume: {exc}") from None
    return result, args.steps


def train(result, steps):
    steps = steps if steps is not None else result.train.max_iters
    with tqdm(total=steps, desc="training", unit="step", file=sys.stderr, dynamic_ncols=True) as bar:
        def progress(step, loss):
            bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
            bar.update(1)
        continue_training(result, steps, progress)
    return result


def report(result) -> None:
    if result.resumed_from_step is not None:
        print(f"resumed from step {result.resumed_from_step} at loss {result.resumed_loss:.4f}")
    print(f"trained {len(result.train_losses)} steps in {result.seconds:.1f}s "
          f"({len(result.train_snippets)} training snippets, {result.tokenizer.vocab_size} characters)")
    print(f"initial loss {result.initial_loss:.4f}  final loss {result.final_loss:.4f}  "
          f"decrease {result.decrease:.1%}")


def show(prompt: str, completion: str) -> None:
    mark = "valid" if is_valid_python(prompt + completion) else "INVALID"
    text = (prompt + completion).replace("\n", "\n    ")
    print(f"[{mark}] {text}")


def interactive(result) -> None:
    print("\nType a prompt (\\n for a newline); an empty line quits.")
    while True:
        try:
            line = input(">>> ")
        except (EOFError, KeyboardInterrupt):
            print()
            break
        if not line:
            break
        prompt = line.replace("\\n", "\n")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            completion = complete(result.model, result.tokenizer, prompt)
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
        show(prompt, completion)


def main(argv=None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        result, steps = prepare(args)
    except UsageError as exc:
        print(f"vaswani_copilot.py: error: {exc}", file=sys.stderr)
        return 2
    try:
        train(result, steps)
    except KeyboardInterrupt:
        print("vaswani_copilot.py: interrupted; no checkpoint written", file=sys.stderr)
        return 130
    except FloatingPointError as exc:  # a NaN/inf loss stops the Trainer before it touches the weights
        print(f"vaswani_copilot.py: error: {exc}; no checkpoint written", file=sys.stderr)
        return 1
    report(result)
    if args.train_only and result.decrease <= REQUIRED_DECREASE:
        print(f"FAILED: loss decrease {result.decrease:.1%} is not above {REQUIRED_DECREASE:.0%}; "
              f"no checkpoint written")
        return 1
    try:
        save_copilot(result, args.checkpoint)
    except OSError as exc:
        print(f"vaswani_copilot.py: error: could not save the checkpoint: {exc}", file=sys.stderr)
        return 1
    print(f"checkpoint saved to {args.checkpoint}")
    if args.train_only:
        return 0
    rate, cases = generation_validity(result.model, result.tokenizer, completion_prompts(result.test_snippets))
    print(f"\nHeld-out completions ({rate:.0%} parse as Python):")
    for prompt, completion, _ in cases:
        show(prompt, completion)
    rate, _ = generation_validity(result.model, result.tokenizer, completion_prompts(result.train_snippets))
    print(f"Training prompts: {rate:.0%} of {len(result.train_snippets)} completions parse as Python.")
    if sys.stdin.isatty():
        interactive(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
