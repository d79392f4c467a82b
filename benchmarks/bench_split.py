"""A training step split into its linear-layer matmuls and the rest, tinytorch against PyTorch eager.

The matmuls (x W, dY W^T, X^T dY of every Linear and the q/k/v projection) are BLAS's time, the same
products on both sides; the remainder (step minus those matmuls) is what each framework's own code
costs. Also the Python calls one step makes (cProfile's call total; torch's Python front end counts too).
All at 1 thread, CPU time, both frameworks timed in interleaved rounds in one process, medians.
Run from the repository root: python benchmarks/bench_split.py [--rounds N] [--no-calls]
"""

import argparse
import cProfile
import os
import pstats
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinytorch.bench.common import cpu_seconds, machine_notes, thread_limit, torch_or_none  # noqa: E402
from tinytorch.bench.speed import step_matmul_shapes  # noqa: E402
from tinytorch.bench.workloads import MEDIUM, TINY, tinytorch_step, torch_step  # noqa: E402
from tinytorch.runtime.allocator import keep_freed_memory  # noqa: E402


def linear_products(work, torch) -> dict:
    """{side: zero-argument fn doing every 2-D (linear-layer) product of one step once}."""
    rng = np.random.default_rng(0)
    pairs = [(rng.standard_normal(a).astype(np.float32), rng.standard_normal(b).astype(np.float32))
             for a, b in step_matmul_shapes(work) if len(a) == 2]

    def ours():
        for a, b in pairs:
            a @ b
    fns = {"tinytorch": ours}
    if torch is not None:
        tpairs = [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in pairs]

        def theirs():
            for a, b in tpairs:
                a @ b
        fns["torch"] = theirs
    return fns


def calls_per_step(step, steps: int = 5) -> int:
    """Python-level calls (cProfile's total, C functions included) of one step, after warm-up steps."""
    for _ in range(3):
        step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    return round(pstats.Stats(profiler).total_calls / steps)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (medians are taken over them)")
    parser.add_argument("--number", type=int, default=3, help="medium steps per timed round")
    parser.add_argument("--no-calls", action="store_true", help="skip the per-step call counts")
    args = parser.parse_args(argv)
    torch = torch_or_none()
    for line in machine_notes():
        print(line)
    with thread_limit(1):
        steps = {"tinytorch": tinytorch_step(MEDIUM)}
        if torch is not None:
            steps["torch"] = torch_step(MEDIUM)
        for step in steps.values():
            for _ in range(3):
                step()
        step_s = cpu_seconds(steps, args.number, args.rounds)
        mm_s = cpu_seconds(linear_products(MEDIUM, torch), args.number, args.rounds)
        print(f"\nmedium step ({MEDIUM.describe()}), 1 thread, CPU ms, median of {args.rounds} interleaved rounds:")
        rest = {}
        for side in steps:
            rest[side] = step_s[side] - mm_s[side]
            print(f"  {side:9s}: step {step_s[side] * 1e3:7.1f}  linear matmuls {mm_s[side] * 1e3:6.1f}  "
                  f"remainder {rest[side] * 1e3:6.1f}  step/matmuls {step_s[side] / mm_s[side]:.2f}")
        if torch is not None:
            print(f"  ours/torch: step {step_s['tinytorch'] / step_s['torch']:.2f}, "
                  f"matmuls {mm_s['tinytorch'] / mm_s['torch']:.2f}, remainder {rest['tinytorch'] / rest['torch']:.2f}")
        if not args.no_calls:
            print("\nPython calls per step (cProfile total, C functions included):")
            for work in (TINY, MEDIUM):
                counts = {"tinytorch": calls_per_step(tinytorch_step(work))}
                if torch is not None:
                    counts["torch"] = calls_per_step(torch_step(work))
                print(f"  {work.name:6s}: " + ", ".join(f"{side} {n:,}" for side, n in counts.items()))
    return 0


if __name__ == "__main__":
    keep_freed_memory()  # this script owns its process
    sys.exit(main())
