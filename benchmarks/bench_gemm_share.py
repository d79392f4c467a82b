"""The linear layers' matrix products of one medium training step, numpy's BLAS against PyTorch's.

Both frameworks do exactly these products (x W forward; dY W^T and X^T dY backward, for every Linear
and the fused q/k/v projection), so their time is the part of a step that no Python-level change can
move: it is the BLAS library's. The script times them on random float32 operands at 1 thread, shape
by shape, interleaved, and prints each side's total per step and the ratio.
Run from the repository root: python benchmarks/bench_gemm_share.py [--repeats N] [--workload medium|nanogpt]
"""

import argparse
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinytorch.bench.common import interleaved_seconds, machine_notes, thread_limit, torch_or_none  # noqa: E402
from tinytorch.bench.speed import step_matmul_shapes  # noqa: E402
from tinytorch.bench.workloads import MEDIUM, Workload  # noqa: E402
from tinytorch.nn.config import GPTConfig  # noqa: E402
from tinytorch.training.config import TrainConfig  # noqa: E402
from tinytorch.runtime.allocator import keep_freed_memory  # noqa: E402

# nanoGPT's CPU recipe (benchmarks/bench_nanogpt_cpu.py): batch 12 x block 64, vocabulary of the stdlib text.
NANOGPT = Workload("nanogpt", GPTConfig(vocab_size=96, n_embd=128, n_layer=4, n_head=4, block_size=64),
                   TrainConfig(batch_size=12))


def linear_shapes(work: Workload) -> list:
    """The 2-D (a_shape, b_shape) products of one step: the Linear layers and the q/k/v projection."""
    return [(a, b) for a, b in step_matmul_shapes(work) if len(a) == 2]


def per_shape_seconds(pairs: list, torch, repeats: int, number: int) -> list:
    """[(numpy seconds, torch seconds or None)] per product: medians of interleaved repeats."""
    out = []
    for a, b in pairs:
        fns = {"numpy": lambda a=a, b=b: a @ b}
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            fns["torch"] = lambda ta=ta, tb=tb: ta @ tb
        samples = interleaved_seconds(fns, number, repeats, warmup=1)
        out.append(tuple(statistics.median(samples[k]) if k in samples else None for k in ("numpy", "torch")))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=("medium", "nanogpt"), default="medium")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--number", type=int, default=10, help="calls per timed repeat")
    args = parser.parse_args(argv)
    work = MEDIUM if args.workload == "medium" else NANOGPT
    torch = torch_or_none()
    for line in machine_notes():
        print(line)
    rng = np.random.default_rng(0)
    shapes = linear_shapes(work)
    pairs = [(rng.standard_normal(a).astype(np.float32), rng.standard_normal(b).astype(np.float32)) for a, b in shapes]
    with thread_limit(1):
        if torch is not None:
            torch.set_num_threads(1)
        times = per_shape_seconds(pairs, torch, args.repeats, args.number)
    totals = {}  # (a_shape, b_shape) -> [numpy, torch, count]
    for shape, (ours, theirs) in zip(shapes, times):
        row = totals.setdefault(shape, [0.0, 0.0, 0])
        row[0] += ours
        row[1] += theirs or 0.0
        row[2] += 1
    print(f"{work.name} step, {len(shapes)} linear-layer products at 1 thread (median of {args.repeats} repeats):")
    for (a, b), (ours, theirs, count) in totals.items():
        ratio = f", numpy/torch {ours / theirs:.2f}" if torch is not None else ""
        print(f"  {a} @ {b} x{count}: numpy {ours * 1e3:.2f} ms{f', torch {theirs * 1e3:.2f} ms' if torch else ''}{ratio}")
    ours = sum(t[0] for t in times)
    if torch is None:
        print(f"total: numpy {ours * 1e3:.1f} ms per step (torch not installed)")
        return 0
    theirs = sum(t[1] for t in times)
    print(f"total: numpy {ours * 1e3:.1f} ms, torch {theirs * 1e3:.1f} ms per step; numpy/torch {ours / theirs:.2f} "
          f"(numpy's BLAS costs {(ours - theirs) * 1e3:.1f} ms more per step)")
    return 0


if __name__ == "__main__":
    keep_freed_memory()  # this script owns its process (tinytorch/core/allocator.py)
    sys.exit(main())
