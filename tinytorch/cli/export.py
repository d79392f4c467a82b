"""`tinytorch export`: write a checkpoint as a Hugging Face GPT-2 directory that transformers loads."""

from __future__ import annotations

from .errors import UserError
from .common import load_pretrained_model


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export", help="write a checkpoint in Hugging Face GPT-2 format",
                              description="Write the model and tokenizer of a checkpoint as a directory that "
                                          "transformers.GPT2LMHeadModel.from_pretrained and "
                                          "AutoTokenizer.from_pretrained load (config.json, model.safetensors, "
                                          "tokenizer.json). A directory holding other files is never written into.")
    p.add_argument("checkpoint", metavar="CKPT",
                   help="a .safetensors checkpoint written by tinytorch train (or a Hugging Face GPT-2 directory)")
    p.add_argument("directory", metavar="DIR", help="the directory to write (new, empty, or an earlier export)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..hf import save_pretrained
    from .output_lock import OutputLock

    with OutputLock(args.directory, "export"):  # a second export into the same folder is refused
        model, tokenizer = load_pretrained_model(args.checkpoint)
        try:
            save_pretrained(model, tokenizer, args.directory)
        except OSError as exc:
            raise UserError(str(exc)) from None
    print(f"tinytorch export: wrote {args.directory} (config.json, model.safetensors, tokenizer.json); load it with "
          f"transformers.GPT2LMHeadModel.from_pretrained('{args.directory}')")
    n = model.config.block_size
    print(f"note: the model reads at most {n} tokens (n_positions {n}); transformers' generate fails with an index "
          f"error once prompt plus new tokens pass {n}. To sample longer, generate in a sliding window: feed the last "
          f"{n} tokens each step (tinytorch generate does this; docs/BEYOND_ONE_MACHINE.md shows it with transformers)")
    return 0
