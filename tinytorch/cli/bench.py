"""`tinytorch bench`: the test plan's layer-4 figures (steps/s, peak memory, steps to loss 0.1) in seconds;
`--full` runs every benchmark of `benchmarks/`, against PyTorch eager where torch is installed."""

from __future__ import annotations

import time


# The test plan's layer-4 baselines.
PLAN_STEPS_PER_SEC = 10
PLAN_PEAK_MB = 500
PLAN_STEPS_TO_0_1 = 300


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("bench", help="measure training speed, peak memory and convergence",
                              description="The test plan's layer-4 figures in a few seconds: training steps/s of the "
                                          "tiny GPT, peak memory of a tiny training process, and steps to loss 0.1. "
                                          "--full runs every benchmark, against PyTorch eager where installed.")
    p.add_argument("--full", action="store_true",
                   help="every benchmark (medium model, generation, matmul bound, five seeds) with the PyTorch "
                        "comparison; takes minutes")
    p.add_argument("--no-torch", action="store_true", help="with --full: leave out the PyTorch comparison")
    p.set_defaults(func=run)


def _meets(ok: bool) -> str:
    """The plan's speed and memory baselines depend on the machine: bench reports them, tests do not assert them."""
    return "met" if ok else "NOT met on this machine"


def _steps_text(steps) -> str:
    return "not reached" if steps is None else str(steps)


def run(args) -> int:
    from ..bench.common import blas_kernel
    from ..bench.report import SECTIONS, run_sections

    if args.full:
        run_sections(list(SECTIONS), torch=not args.no_torch)
        return 0
    from ..bench.memory import peak_rss_mb
    from ..bench.speed import tiny_steps_per_sec
    from ..experiments.memorization import run_memorization
    from ..experiments.recipes import DEFAULT_TRAIN, PLAN_TRAIN

    start = time.perf_counter()
    print("tinytorch bench: the test plan's layer-4 figures (tinytorch bench --full: everything, against PyTorch)")
    print(f"BLAS: {blas_kernel()}")
    speed = tiny_steps_per_sec(repeats=5, number=50, compare_torch=False)
    print(f"training speed: {speed.ours:,.0f} steps/s (median of 5 x 50 steps; {speed.notes}; "
          f"plan baseline ~{PLAN_STEPS_PER_SEC} steps/s: {_meets(speed.ours >= PLAN_STEPS_PER_SEC)})")
    memory = peak_rss_mb(repeats=1, compare_torch=False)
    print(f"peak memory: {memory.ours:.1f} MiB (a fresh process training {PLAN_TRAIN.max_iters} steps with the plan's "
          f"recipe; plan baseline < {PLAN_PEAK_MB} MB: {_meets(memory.ours < PLAN_PEAK_MB)})")
    plan = run_memorization(0, PLAN_TRAIN).steps_to(0.1)
    default = run_memorization(0, DEFAULT_TRAIN).steps_to(0.1)
    print(f"steps to loss 0.1: {_steps_text(plan)} with the plan's recipe (seed 0, of {PLAN_TRAIN.max_iters}; plan "
          f"baseline ~{PLAN_STEPS_TO_0_1}), {_steps_text(default)} with our default recipe (of {DEFAULT_TRAIN.max_iters})")
    print(f"({time.perf_counter() - start:.1f} s)")
    return 0
