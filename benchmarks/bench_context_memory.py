"""Training memory and speed against context length at fixed tokens per step, tinytorch and PyTorch eager.

The medium GPT (V65 E128 L4 H4) trains on 2048 tokens per step as T x B = 128 x 16, 1024 x 2 and
4096 x 1 (4096 tokens: one sequence is the least). Each (framework, T) runs in a fresh process at
1 thread; its training memory is the peak RSS over 3 steps minus the RSS once the model and data are
built (so the frameworks' own import sizes drop out). Then the T=1024 step is timed in interleaved
rounds (CPU time, medians) for the speed ratio.
Run from the repository root: python benchmarks/bench_context_memory.py [--lengths 128 1024 4096] [--rounds N]
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinytorch.bench.common import cpu_seconds, machine_notes, thread_limit, torch_or_none  # noqa: E402
from tinytorch.bench.workloads import Workload, tinytorch_step, torch_step  # noqa: E402

TOKENS = 2048

CHILD = """
import json, resource, sys
sys.path.insert(0, {root!r})
from threadpoolctl import threadpool_limits
threadpool_limits(1)
from tinytorch.runtime.allocator import keep_freed_memory
keep_freed_memory()
from tinytorch.bench.workloads import Workload, tinytorch_step, torch_step
t = {t}
work = Workload("context", 65, 128, 4, 4, seq_len=t, batch_size=max(1, {tokens} // t), max_seq_len=t)
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


def training_mb(side: str, t: int) -> float:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = CHILD.format(root=root, t=t, tokens=TOKENS, side=side)
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
    print(f"\ntraining memory (MB: peak RSS over 3 steps of {TOKENS} tokens minus RSS once built), 1 thread:")
    base = {}
    for t in args.lengths:
        row = []
        for side in sides:
            mb = training_mb(side, t)
            base.setdefault(side, mb)
            row.append(f"{side} {mb:6.0f} ({mb / base[side]:.2f}x T={args.lengths[0]})")
        print(f"  T={t:5d} B={max(1, TOKENS // t):2d}: " + ", ".join(row))
    if torch is not None and args.rounds:
        work = Workload("context", 65, 128, 4, 4, seq_len=1024, batch_size=TOKENS // 1024, max_seq_len=1024)
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
    sys.exit(main())
