"""Printing benchmark figures: the sections behind `benchmarks/*.py` and `tinytorch bench`."""

from __future__ import annotations

import argparse
import time

from ..experiments.recipes import DEFAULT_TRAIN, PLAN_TRAIN
from .common import Figure, machine_notes, torch_or_none
from .convergence import SEEDS, steps_to_loss
from .memory import peak_rss_mb, rss_growth_mb
from .speed import generation_tokens_per_sec, matmul_bound, medium_tokens_per_sec, tiny_steps_per_sec


def _tiny(torch: bool, repeats: int | None) -> list[Figure]:
    return [tiny_steps_per_sec(repeats=repeats or 9, compare_torch=torch)]


def _medium(torch: bool, repeats: int | None) -> list[Figure]:
    return [medium_tokens_per_sec(threads, repeats=repeats or 5, compare_torch=torch) for threads in (1, 2)]


def _memory(torch: bool, repeats: int | None) -> list[Figure]:
    return [peak_rss_mb(repeats=repeats or 3, compare_torch=torch), rss_growth_mb()]


def _convergence(torch: bool, repeats: int | None) -> list[Figure]:
    seeds = SEEDS if repeats is None else tuple(range(repeats))
    return [steps_to_loss(train, seeds, compare_torch=torch, name=name)
            for name, train in (("plan", PLAN_TRAIN), ("default", DEFAULT_TRAIN))]


def _generation(torch: bool, repeats: int | None) -> list[Figure]:
    return [generation_tokens_per_sec(cache, repeats=repeats or 3, compare_torch=torch) for cache in (True, False)]


def _matmul(torch: bool, repeats: int | None) -> list[Figure]:
    return [matmul_bound(repeats=repeats or 9)]


SECTIONS = {"tiny": _tiny, "medium": _medium, "memory": _memory, "convergence": _convergence,
            "generation": _generation, "matmul": _matmul}


def run_sections(names, torch: bool = True, repeats: int | None = None, out=print) -> list[Figure]:
    """Print the machine notes, then each section's figures as they are measured; returns them all."""
    torch = torch and torch_or_none() is not None
    for line in machine_notes():
        out(line)
    out(f"threads: pinned per figure with tinytorch.set_num_threads and torch.set_num_threads; each figure's notes "
        f"give the threads in use, read back from threadpoolctl and torch{'' if torch else '; PyTorch comparison off'}")
    figures = []
    for name in names:
        start = time.perf_counter()
        for figure in SECTIONS[name](torch, repeats):
            out(figure.line())
            figures.append(figure)
        out(f"  ({name}: {time.perf_counter() - start:.1f} s)")
    return figures


def main(sections, argv=None, description: str | None = None) -> int:
    """Command-line entry of the `benchmarks/` scripts: run `sections`, with --no-torch and --repeats."""
    parser = argparse.ArgumentParser(description=description or f"tinytorch benchmarks: {', '.join(sections)}")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch eager comparison")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per figure (seeds for convergence)")
    args = parser.parse_args(argv)
    run_sections(sections, torch=not args.no_torch, repeats=args.repeats)
    return 0
