"""Speed figures: training steps/s and tokens/s, generation tokens/s, and the tiny step's matmul bound.
Medians over repeats; with `compare_torch` the same workload runs in PyTorch eager, interleaved with ours."""

from __future__ import annotations

import numpy as np

from ..generation import generate
from .common import Figure, interleaved_seconds, median, thread_limit, threads_note, torch_or_none
from .workloads import GENERATION, GENERATION_NEW_TOKENS, MEDIUM, TINY, Workload, build_model, tinytorch_step, torch_step


def _want_torch(compare_torch: bool) -> bool:
    return compare_torch and torch_or_none() is not None


def training_seconds_and_threads(work: Workload, threads: int | None, repeats: int, number: int,
                                 compare_torch: bool) -> tuple[dict, str]:
    """Per-step seconds of `work`'s training step: {"tinytorch": [...], "torch": [...]} (torch optional),
    and the threads the steps ran on as the libraries report them."""
    with thread_limit(threads):
        fns = {"tinytorch": tinytorch_step(work)}
        if _want_torch(compare_torch):
            fns["torch"] = torch_step(work)
            fns["torch fused Adam"] = torch_step(work, fused_adam=True)
        return interleaved_seconds(fns, number, repeats), threads_note(True, len(fns) > 1)


def _rate_figure(name: str, unit: str, samples: dict, per_step: float, notes: str) -> Figure:
    """ours vs torch (the plan's `Adam(params, lr)`); torch's opt-in fused Adam, if measured, goes in the notes."""
    rates = {k: [per_step / s for s in v] for k, v in samples.items()}
    ours = per_step / median(samples["tinytorch"])
    theirs = per_step / median(samples["torch"]) if "torch" in samples else None
    if "torch fused Adam" in samples:
        fused = per_step / median(samples["torch fused Adam"])
        notes += f"; torch with fused=True Adam: {fused:,.0f} {unit}, ratio ours/that {ours / fused:.2f}"
    return Figure(name, unit, ours, theirs, samples=rates, notes=notes)


def tiny_steps_per_sec(repeats: int = 7, number: int = 100, compare_torch: bool = True, threads: int = 1) -> Figure:
    """Training steps/s of the plan's memorization step (1 layer, 32 dim, batch 1, seq 63; Adam, clip +-1)."""
    samples, used = training_seconds_and_threads(TINY, threads, repeats, number, compare_torch)
    return _rate_figure("tiny training", "steps/s", samples, 1.0, f"{TINY.describe()}; {used}")


def medium_tokens_per_sec(threads: int = 1, repeats: int = 5, number: int = 3, compare_torch: bool = True) -> Figure:
    """Training tokens/s of the medium GPT (4 layers, 128 dim, batch 16 x seq 128) at `threads` threads."""
    samples, used = training_seconds_and_threads(MEDIUM, threads, repeats, number, compare_torch)
    return _rate_figure(f"medium training, {threads} thread(s) asked", "tokens/s", samples, MEDIUM.tokens_per_step,
                        f"{MEDIUM.describe()}; {used}")


def generation_tokens_per_sec(use_cache: bool, repeats: int = 3, new_tokens: int = GENERATION_NEW_TOKENS,
                              compare_torch: bool = True, threads: int = 1) -> Figure:
    """Greedy generation of `new_tokens` tokens after a 16-token prompt (4 layers, 128 dim), with or without KV cache."""
    model = build_model(GENERATION)
    prompt = np.random.default_rng(0).integers(0, GENERATION.model.vocab_size, (1, GENERATION.tokens))
    fns = {"tinytorch": lambda: generate(model, prompt, new_tokens, temperature=0.0, use_cache=use_cache)}
    if _want_torch(compare_torch):
        from . import torch_ref

        torch_model = torch_ref.TorchGPT(model)
        fns["torch"] = lambda: torch_ref.generate_greedy(torch_model, prompt, new_tokens, use_cache)
    with thread_limit(threads):
        samples = interleaved_seconds(fns, 1, repeats, warmup=1)
        used = threads_note(False, len(fns) > 1)
    cache = "with KV cache" if use_cache else "without KV cache"
    return _rate_figure(f"generation {cache}", "tokens/s", samples, new_tokens,
                        f"{GENERATION.model.n_layer} layers, {GENERATION.model.n_embd} dim, prompt {GENERATION.tokens}, "
                        f"{new_tokens} new tokens, greedy; {used}")


def step_matmul_shapes(work: Workload) -> list[tuple[tuple, tuple]]:
    """(a_shape, b_shape) of every matmul in one training step of `work` (forward, then backward)."""
    b, t, c, h = work.train.batch_size, work.tokens, work.model.n_embd, work.model.n_head
    n, hd, v, hidden = b * t, c // h, work.model.vocab_size, work.model.hidden_dim
    heads = (b, h)
    attention_fwd = [(heads + (t, hd), heads + (hd, t)),  # Q K^T
                     (heads + (t, t), heads + (t, hd))]  # P V
    attention_bwd = [(heads + (t, t), heads + (t, hd)),  # dV = P^T dO
                     (heads + (t, hd), heads + (hd, t)),  # dP = dO V^T
                     (heads + (t, t), heads + (t, hd)),  # dQ = dS K
                     (heads + (t, t), heads + (t, hd))]  # dK = dS^T Q

    def linear(fan_in: int, fan_out: int) -> tuple[list, list]:
        forward = [((n, fan_in), (fan_in, fan_out))]
        backward = [((n, fan_out), (fan_out, fan_in)),  # dX = dY W^T
                    ((fan_in, n), (n, fan_out))]  # dW = X^T dY
        return forward, backward

    layer = [linear(c, 3 * c), None, linear(c, c), linear(c, hidden), linear(hidden, c)]
    forward, backward = [], []
    for _ in range(work.model.n_layer):
        for part in layer:
            forward += attention_fwd if part is None else part[0]
            backward += attention_bwd if part is None else part[1]
    head_fwd, head_bwd = linear(c, v)
    return forward + head_fwd + head_bwd + backward


def matmul_seconds(work: Workload, repeats: int = 7, number: int = 100) -> float:
    """Median seconds of just the matmuls of one training step, on random float32 operands."""
    rng = np.random.default_rng(0)
    pairs = [(rng.standard_normal(a).astype(np.float32), rng.standard_normal(b).astype(np.float32))
             for a, b in step_matmul_shapes(work)]

    def run():
        for a, b in pairs:
            a @ b

    return median(interleaved_seconds({"matmuls": run}, number, repeats)["matmuls"])


def matmul_bound(repeats: int = 7, number: int = 100, threads: int = 1) -> Figure:
    """The tiny step's time as a multiple of the time of its matmuls alone (1.0 would be pure BLAS)."""
    with thread_limit(threads):
        mm = matmul_seconds(TINY, repeats, number)
        samples, used = training_seconds_and_threads(TINY, None, repeats, number, compare_torch=False)
    step = median(samples["tinytorch"])
    count = len(step_matmul_shapes(TINY))
    return Figure("tiny step / its matmuls", "x", step / mm, higher_is_better=False,
                  samples={"step_us": step * 1e6, "matmul_us": mm * 1e6},
                  notes=f"step {step * 1e6:.0f} us, its {count} matmuls {mm * 1e6:.0f} us; {used}")

