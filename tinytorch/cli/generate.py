"""`tinytorch generate`: continue a prompt with a trained checkpoint or a Hugging Face GPT-2 directory."""

from __future__ import annotations

import argparse
import sys
import warnings

from .errors import UserError
from .common import finite_float, load_pretrained_model, non_negative_int, positive_int, read_utf8, unknown_chars

SEPARATOR = "-" * 15  # printed between samples, as nanoGPT's sample.py does
EMPTY_PROMPT = "\n"  # what an empty or missing prompt starts from, as nanoGPT's sample.py (start="\n")
MAX_PROMPT_BYTES = 1 << 24  # 16 MiB: far more than any model's window; the model sees only its last tokens


class DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """--help shows every option's default, except for options that are off unless given."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("generate", help="continue a prompt with a trained model",
                              formatter_class=DefaultsHelp,
                              description="Rebuild the GPT and tokenizer from a checkpoint (or a Hugging Face GPT-2 "
                                          "directory) and sample continuations of a prompt.")
    p.add_argument("checkpoint", metavar="PATH",
                   help="a .safetensors checkpoint written by tinytorch train, or a Hugging Face GPT-2 directory")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--prompt", help="text to continue (default: a newline, as nanoGPT's sample.py starts)")
    source.add_argument("--prompt-file", metavar="FILE", help="read the prompt from a UTF-8 file ('-' for stdin)")
    p.add_argument("--num-samples", type=positive_int, default=1, metavar="N", help="how many continuations to print")
    p.add_argument("--max-new-tokens", type=non_negative_int, default=200, metavar="N",
                   help="tokens to add to each sample")
    p.add_argument("--stop", action="append", default=None, metavar="STRING",
                   help="end a sample where STRING first appears (STRING not printed; repeatable; \\n and \\t "
                        "read as newline and tab; default: none)")
    p.add_argument("--temperature", type=finite_float, default=0.8, metavar="T", help="0 for greedy")
    p.add_argument("--top-k", type=non_negative_int, default=None, metavar="K",
                   help="sample from the K most likely tokens (default: all)")
    p.add_argument("--top-p", type=finite_float, default=None, metavar="P",
                   help="nucleus sampling: the fewest tokens holding mass P in (0, 1] (default: off)")
    p.add_argument("--seed", type=non_negative_int, default=None, metavar="S",
                   help="make the samples repeatable (default: a fresh random stream)")
    p.set_defaults(func=run)


def read_prompt(args) -> str:
    """The prompt from --prompt, or from --prompt-file (a path, or '-' for stdin)."""
    if args.prompt_file is None:
        prompt = args.prompt
    elif args.prompt_file == "-":
        prompt = sys.stdin.read(MAX_PROMPT_BYTES + 1)  # bounded: stdin may be endless
        if len(prompt) > MAX_PROMPT_BYTES:
            raise UserError(f"--prompt-file -: the prompt on stdin is over {MAX_PROMPT_BYTES:,} characters")
    else:
        prompt = read_utf8(args.prompt_file, "--prompt-file", limit=MAX_PROMPT_BYTES)
    return prompt or EMPTY_PROMPT


def stop_strings(values) -> list:
    r"""--stop values with \n and \t read as newline and tab (a shell passes them as two characters)."""
    stops = [v.replace("\\n", "\n").replace("\\t", "\t") for v in values or []]
    if "" in stops:
        raise UserError("--stop is empty; give the text that ends a sample")
    return stops


def write(text: str) -> None:
    """Print `text` at once, on a terminal and through a pipe alike: a stopped run keeps what it printed."""
    sys.stdout.write(text)
    sys.stdout.flush()


def run(args) -> int:
    from ..core.random import manual_seed
    from ..generation import stream_text

    if args.temperature < 0:
        raise UserError(f"--temperature must be >= 0, got {args.temperature}")
    if args.top_k is not None and args.top_k < 1:
        raise UserError(f"--top-k must be >= 1, got {args.top_k}")
    if args.top_p is not None and not 0 < args.top_p <= 1:
        raise UserError(f"--top-p must be in (0, 1], got {args.top_p}")
    stops = stop_strings(args.stop)
    prompt = read_prompt(args)
    model, tokenizer = load_pretrained_model(args.checkpoint)
    unknown = unknown_chars(tokenizer, prompt)
    if unknown:
        print(f"tinytorch generate: warning: the model never saw {unknown!r}; those characters become <UNK>",
              file=sys.stderr)
    if args.seed is not None:
        manual_seed(args.seed)  # after loading (building a model draws initial weights); one stream for all samples
    line_open = False  # a sample printed without its final newline yet
    try:
        for i in range(args.num_samples):
            if i:
                write(SEPARATOR + "\n")
            write(prompt)
            line_open = True
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # unknown characters were reported above
                for piece in stream_text(model, tokenizer, prompt, args.max_new_tokens, stop=stops,
                                         temperature=args.temperature, top_k=args.top_k, top_p=args.top_p):
                    write(piece)  # each token's text as soon as its characters are whole
            write("\n")
            line_open = False
    except KeyboardInterrupt:
        if line_open:  # what was generated stays, ended as a finished sample is
            write("\n")
        raise
    return 0
