"""`tinytorch generate`: continue a prompt with a trained checkpoint (KV-cached sampling)."""

from __future__ import annotations

import sys
import warnings

import numpy as np

from . import UserError
from .common import finite_float, load_model, non_negative_int, unknown_chars


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("generate", help="continue a prompt with a trained checkpoint",
                              description="Rebuild the GPT and tokenizer from a checkpoint and sample a continuation.")
    p.add_argument("checkpoint", metavar="CKPT", help="a .safetensors checkpoint written by tinytorch train")
    p.add_argument("--prompt", required=True, help="text to continue")
    p.add_argument("--max-new-tokens", type=non_negative_int, default=200)
    p.add_argument("--temperature", type=finite_float, default=0.8, help="0 for greedy (default 0.8)")
    p.add_argument("--top-k", type=non_negative_int, default=None, help="sample from the k most likely tokens")
    p.add_argument("--top-p", type=finite_float, default=None, help="nucleus sampling mass in (0, 1]")
    p.add_argument("--seed", type=non_negative_int, default=None, help="make the sample repeatable")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..generation import generate

    if args.temperature < 0:
        raise UserError(f"--temperature must be >= 0, got {args.temperature}")
    if args.top_k is not None and args.top_k < 1:
        raise UserError(f"--top-k must be >= 1, got {args.top_k}")
    if args.top_p is not None and not 0 < args.top_p <= 1:
        raise UserError(f"--top-p must be in (0, 1], got {args.top_p}")
    if not args.prompt:
        raise UserError("--prompt is empty; give at least one character to continue")
    model, tokenizer, _ = load_model(args.checkpoint)
    unknown = unknown_chars(tokenizer, args.prompt)
    if unknown:
        print(f"tinytorch generate: warning: the model never saw {unknown!r}; those characters become <UNK>",
              file=sys.stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prompt_ids = tokenizer.encode(args.prompt)
    ids = generate(model, np.asarray(prompt_ids, dtype=np.int64), args.max_new_tokens, temperature=args.temperature,
                   top_k=args.top_k, top_p=args.top_p, seed=args.seed, use_cache=True)
    completion = tokenizer.decode(ids[len(prompt_ids):].tolist())
    sys.stdout.write(args.prompt + completion + "\n")
    return 0
