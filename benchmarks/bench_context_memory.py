"""Training memory and speed against context length at fixed tokens per step, tinytorch and PyTorch eager.

The medium GPT (V65 E128 L4 H4) trains on 2048 tokens per step as T x B = 128 x 16 and 1024 x 2.
One sequence of 4096 holds twice that, so T=4096 x 1 is compared with T=128 x 32, the same 4096
tokens: each row's ratio is against T=128 at the same tokens per step, so a ratio of 1 is memory flat
in context length. Each (framework, T, B) runs in a fresh process at 1 thread; its training memory is
the peak RSS over 3 steps minus the RSS once the model and data are built (so the frameworks' own
import sizes drop out). Then the T=1024 step is timed in interleaved rounds (CPU time, medians) for
the speed ratio.
Run from the repository root: python benchmarks/bench_context_memory.py [--lengths 128 1024 4096] [--rounds N]
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinytorch.bench.common import cpu_seconds, machine_notes, thread_limit, torch_or_none  # noqa: E402
from tinytorch.bench.workloads import context_workload, tinytorch_step, torch_step  # noqa: E402
from tinytorch.runtime.allocator import keep_freed_memory  # noqa: E402

TOKENS = 2048

CHILD = """
import json, resource, sys
sys.path.insert(0, {root!r})
from threadpoolctl import threadpool_limits
threadpool_limits(1)
from tinytorch.runtime.allocator import keep_freed_memory
keep_freed_memory()
from tinytorch.bench.workloads import context_workload, tinytorch_step, torch_step
work = context_workload({t}, {tokens})
if {side!r} == "torch":
    import torch
    torch.set_num_threads(1)
    step = torch_step(work)
else:
    step = tinytorch_step(work)
with open("/proc/self/status") as f:
    built = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
for _ in range(3):
    step()
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - built))
"""


def training_mb(side: str, t: int, tokens: int) -> float:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = CHILD.format(root=root, t=t, tokens=tokens, side=side)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[128, 1024, 4096])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds timing the T=1024 step")
    args = parser.parse_args(argv)
    torch = torch_or_none()
    sides = ["tinytorch"] + (["torch"] if torch is not None else [])
    for line in machine_notes():
        print(line)
    shortest = min(args.lengths)
    print(f"\ntraining memory (MB: peak RSS over 3 steps minus RSS once built), 1 thread; each ratio is "
          f"against T={shortest} at the same tokens per step:")
    base = {}  # (side, tokens per step) -> MB at the shortest length
    for t in sorted(args.lengths):
        tokens = max(TOKENS, t)  # one sequence is the least a step can hold
        for side in sides:
            if (side, tokens) not in base:
                base[side, tokens] = training_mb(side, shortest, tokens)
        if t == shortest:  # the baseline row itself
            row = [f"{side} {base[side, tokens]:6.0f}" for side in sides]
        else:
            row = []
            for side in sides:
                mb = training_mb(side, t, tokens)
                row.append(f"{side} {mb:6.0f} (T={shortest} x {tokens // shortest}: {base[side, tokens]:.0f}; "
                           f"{mb / base[side, tokens]:.2f}x)")
        print(f"  T={t:5d} B={tokens // t:2d} ({tokens} tokens): " + ", ".join(row))
    if torch is not None and args.rounds:
        work = context_workload(1024, TOKENS)
        with thread_limit(1):
            steps = {"tinytorch": tinytorch_step(work), "torch": torch_step(work)}
            for step in steps.values():
                step()
            seconds = cpu_seconds(steps, 1, args.rounds)
        print(f"\nT=1024 B=2 step, CPU ms, median of {args.rounds} interleaved rounds: tinytorch "
              f"{seconds['tinytorch'] * 1e3:.0f}, torch {seconds['torch'] * 1e3:.0f}; "
              f"speed ours/torch {seconds['torch'] / seconds['tinytorch']:.2f}x")
    return 0


if __name__ == "__main__":
    keep_freed_memory()  # this script owns its process (as the memory children do)
    sys.exit(main())
