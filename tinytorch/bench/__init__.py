"""Benchmarks against PyTorch eager (speed, memory, convergence) as importable functions returning `Figure`s;
`benchmarks/*.py` and `tinytorch bench` print them."""

from .common import Figure, blas_kernel, machine_notes, thread_limit
from .convergence import steps_to_loss, torch_memorization
from .memory import peak_rss_mb, rss_growth_mb
from .speed import generation_tokens_per_sec, matmul_bound, medium_tokens_per_sec, tiny_steps_per_sec
from .workloads import GENERATION, MEDIUM, TINY

__all__ = [
    "Figure", "blas_kernel", "machine_notes", "thread_limit", "steps_to_loss", "torch_memorization",
    "peak_rss_mb", "rss_growth_mb", "generation_tokens_per_sec", "matmul_bound", "medium_tokens_per_sec",
    "tiny_steps_per_sec", "GENERATION", "MEDIUM", "TINY",
]
