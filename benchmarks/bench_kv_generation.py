"""Greedy generation with the KV cache, batch 1, tinytorch against PyTorch eager: 256 and 1024 new tokens.

The medium GPT (V65 E128 L4 H4, context 1040) continues a 16-token prompt; both sides start from the
same weights and must produce the same tokens. 1 thread, CPU time, interleaved rounds, medians.
Run from the repository root: python benchmarks/bench_kv_generation.py [--lengths 256 1024] [--rounds N]
"""

import argparse
import os
import sys
from dataclasses import replace

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinytorch.bench.common import cpu_seconds, machine_notes, thread_limit, torch_or_none  # noqa: E402
from tinytorch.bench.workloads import MEDIUM, build_model  # noqa: E402
from tinytorch.generation import generate  # noqa: E402
from tinytorch.runtime.allocator import keep_freed_memory  # noqa: E402

PROMPT = 16


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[256, 1024], help="new tokens per run")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    torch = torch_or_none()
    for line in machine_notes():
        print(line)
    work = replace(MEDIUM, name="kv-generation", model=replace(MEDIUM.model, block_size=PROMPT + max(args.lengths)),
                   train=replace(MEDIUM.train, batch_size=1), seq_len=PROMPT)
    model = build_model(work)
    prompt = np.random.default_rng(0).integers(0, work.model.vocab_size, (1, PROMPT))
    if torch is not None:
        from tinytorch.bench import torch_ref

        torch_model = torch_ref.TorchGPT(model)
    with thread_limit(1):
        for n in args.lengths:
            fns = {"tinytorch": lambda n=n: generate(model, prompt, n, temperature=0.0, use_cache=True)}
            if torch is not None:
                fns["torch"] = lambda n=n: torch_ref.generate_greedy(torch_model, prompt, n, use_cache=True)
            tokens = {side: np.asarray(fn()) for side, fn in fns.items()}  # also the warm-up
            seconds = cpu_seconds(fns, 1, args.rounds)
            line = f"{n} new tokens: tinytorch {n / seconds['tinytorch']:,.0f} tokens/s"
            if torch is not None:
                same = np.array_equal(tokens["tinytorch"].reshape(-1)[-n:], tokens["torch"].reshape(-1)[-n:])
                line += (f", torch {n / seconds['torch']:,.0f} tokens/s, ours/torch "
                         f"{seconds['torch'] / seconds['tinytorch']:.2f}x, tokens identical: {same}")
            print(line + f" (median of {args.rounds} interleaved rounds, CPU time, 1 thread)")
    return 0


if __name__ == "__main__":
    keep_freed_memory()  # this script owns its process
    sys.exit(main())
