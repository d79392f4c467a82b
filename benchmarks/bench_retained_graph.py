"""Memory a loss kept after backward() holds per training step (`history.append(loss)`), ours and PyTorch's.

Each step runs forward, backward and an Adam update, then keeps the loss tensor itself (not its
float). The figure is the growth per step over `--steps` steps: tracemalloc's traced bytes for
tinytorch (numpy reports its arrays to tracemalloc) and its resident set size; for PyTorch, whose
allocator tracemalloc does not see, the bytes of saved tensors a kept loss's graph still reaches.
Run from the repository root: python benchmarks/bench_retained_graph.py [--workload medium] [--steps 20]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinytorch.bench import workloads  # noqa: E402
from tinytorch.nn.losses import CrossEntropyLoss  # noqa: E402
from tinytorch.optim.optimizers import Adam  # noqa: E402

WARM = 5  # steps before measuring: what a step allocates once is not what each step keeps


def rss_bytes() -> int:
    """The resident set size now (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def tinytorch_steps(work, steps: int, keep_tensor: bool) -> tuple[float, float]:
    """(traced bytes, RSS bytes) the process grows per step, keeping each loss tensor or only its float."""
    model = workloads.build_model(work)
    optimizer, loss_fn = Adam(model.parameters(), lr=work.train.learning_rate), CrossEntropyLoss()
    inputs, targets = workloads.batch_for(work)
    history = []

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        history.append(loss if keep_tensor else loss.item())

    for _ in range(WARM):  # optimizer state, the allocator's first arrays, the gradient buffers
        step()
    tracemalloc.start()
    gc.collect()
    traced0, rss0 = tracemalloc.get_traced_memory()[0], rss_bytes()
    for _ in range(steps):
        step()
    gc.collect()
    traced1, rss1 = tracemalloc.get_traced_memory()[0], rss_bytes()
    tracemalloc.stop()
    return (traced1 - traced0) / steps, (rss1 - rss0) / steps


def torch_saved_bytes(loss) -> tuple[int, int]:
    """(graph nodes, bytes of saved tensors still reachable) from a torch loss's grad_fn."""
    import torch

    nodes, saved, stack, seen = 0, 0, [loss.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nodes += 1
        for name in dir(node):
            if name.startswith("_saved_"):
                try:
                    value = getattr(node, name)
                except RuntimeError:  # freed by backward
                    continue
                if isinstance(value, torch.Tensor) and not value.requires_grad:
                    saved += value.nelement() * value.element_size()
        stack.extend(fn for fn, _ in node.next_functions)
    return nodes, saved


def torch_steps(work, steps: int) -> tuple[float, float] | None:
    """(graph nodes, saved-tensor bytes) a kept torch loss holds per step (None without torch)."""
    try:
        import torch
    except ImportError:
        return None
    from tinytorch.bench import torch_ref

    model = torch_ref.TorchGPT(workloads.build_model(work))
    optimizer = torch.optim.Adam(model.parameters(), lr=work.train.learning_rate)
    inputs, targets = (torch_ref.tensor(a) for a in workloads.batch_for(work))
    vocab, history = model.lm_head.out_features, []
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(inputs).view(-1, vocab), targets.reshape(-1))
        loss.backward()
        optimizer.step()
        history.append(loss)
    counts = [torch_saved_bytes(loss) for loss in history]
    return sum(n for n, _ in counts) / steps, sum(b for _, b in counts) / steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=("tiny", "medium"), default="medium")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    work = workloads.TINY if args.workload == "tiny" else workloads.MEDIUM
    print(f"workload {work.name}: {work.describe()}; {args.steps} steps, each keeping its loss tensor")
    traced, rss = tinytorch_steps(work, args.steps, keep_tensor=True)
    control, _ = tinytorch_steps(work, args.steps, keep_tensor=False)
    print(f"tinytorch: {(traced - control) / 1e3:10.1f} kB per step kept by the loss tensors (traced growth "
          f"{traced / 1e3:.1f} kB minus {control / 1e3:.1f} kB when keeping floats); RSS {rss / 1e6:.2f} MB per step")
    theirs = torch_steps(work, args.steps)
    if theirs is not None:
        nodes, saved = theirs
        print(f"PyTorch:   {saved / 1e3:10.1f} kB of saved tensors per step, still reachable through "
              f"{nodes:.0f} graph nodes (freed by backward)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
