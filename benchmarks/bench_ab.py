"""CPU time per training step of two source trees (before/after a change), interleaved fresh processes, 1 thread.
Run from the repository root, e.g. after `git worktree add /tmp/before <commit>`:
python benchmarks/bench_ab.py /tmp/before . [--workload tiny|medium] [--rounds N] [--steps N] [--torch]
With --torch: the wall-clock figure of bench_tiny/bench_medium (1 thread) and its ratio to PyTorch instead."""

import argparse
import json
import os
import statistics
import subprocess
import sys

# CPU time (time.process_time) is disturbed less than wall time by other processes on a shared machine.
# Each process reports the least of 9 timed runs of `steps` steps; each tree runs `rounds` processes,
# alternating which tree goes first. The settings of allocator.keep_freed_memory() apply to both trees.
CHILD = """
import json, time
from threadpoolctl import threadpool_limits
try:
    from tinytorch.runtime.allocator import keep_freed_memory
    keep_freed_memory()
except ImportError:  # an older tree applied it on the first backward
    pass
from tinytorch.bench.workloads import MEDIUM, TINY, tinytorch_step
threadpool_limits(1)
step = tinytorch_step(TINY if {workload!r} == "tiny" else MEDIUM)
for _ in range(max(3, {steps} // 10)):
    step()
runs = []
for _ in range(9):
    start = time.process_time()
    for _ in range({steps}):
        step()
    runs.append((time.process_time() - start) / {steps})
print(json.dumps(min(runs)))
"""

# The documented figure (wall clock, torch interleaved in the same process) for each tree.
CHILD_TORCH = """
from tinytorch.runtime.allocator import keep_freed_memory
keep_freed_memory()
import json
from tinytorch.bench.speed import medium_tokens_per_sec, tiny_steps_per_sec
fig = tiny_steps_per_sec(repeats=5) if {workload!r} == "tiny" else medium_tokens_per_sec(threads=1, repeats=5)
print(json.dumps([fig.ours, fig.torch]))
"""


def measure(tree: str, workload: str, steps: int, torch: bool = False):
    env = dict(os.environ, PYTHONPATH=os.path.abspath(tree), OPENBLAS_NUM_THREADS="1")
    code = (CHILD_TORCH if torch else CHILD).format(workload=workload, steps=steps)
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="source tree before the change")
    parser.add_argument("after", help="source tree after the change")
    parser.add_argument("--workload", choices=("tiny", "medium"), default="tiny")
    parser.add_argument("--rounds", type=int, default=8, help="fresh processes per tree")
    parser.add_argument("--steps", type=int, default=None, help="steps per timed run (default 200 tiny, 3 medium)")
    parser.add_argument("--torch", action="store_true", help="wall-clock rate and ratio to PyTorch (needs torch)")
    args = parser.parse_args()
    steps = args.steps or (200 if args.workload == "tiny" else 3)
    seconds = {"before": [], "after": []}
    trees = {"before": args.before, "after": args.after}
    for round_ in range(args.rounds):
        for name in (("before", "after") if round_ % 2 == 0 else ("after", "before")):
            seconds[name].append(measure(trees[name], args.workload, steps, args.torch))
    if args.torch:
        unit = "steps/s" if args.workload == "tiny" else "tokens/s"
        for name, pairs in seconds.items():
            print(f"{args.workload}, {name} ({trees[name]}): median {statistics.median(p[0] for p in pairs):,.0f} {unit}, "
                  f"median ratio to torch {statistics.median(p[0] / p[1] for p in pairs):.2f} over {len(pairs)} processes")
        return 0
    unit, scale = ("us", 1e6) if args.workload == "tiny" else ("ms", 1e3)
    for name, values in seconds.items():
        print(f"{args.workload} step CPU, {name} ({trees[name]}): median {statistics.median(values) * scale:.1f} {unit} "
              f"over {len(values)} processes, least {min(values) * scale:.1f} {unit}")
    ratio = statistics.median(seconds["after"]) / statistics.median(seconds["before"])
    print(f"after/before {ratio:.3f} (below 1: the change is faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
