"""Medium training step with and without allocator.keep_freed_memory(), each in fresh processes, 1 thread.
Run from the repository root: python benchmarks/bench_allocator.py [--rounds N] [--repeats N]"""

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# One fresh process per measurement: the malloc settings are process-wide and cannot be undone.
CHILD = """
import json, sys
sys.path.insert(0, {root!r})
from tinytorch.core.allocator import keep_freed_memory
from tinytorch.bench.speed import training_seconds
from tinytorch.bench.workloads import MEDIUM
applied = keep_freed_memory() if {keep} else False
seconds = training_seconds(MEDIUM, 1, {repeats}, 3, compare_torch=False)["tinytorch"]
print(json.dumps({{"applied": applied, "seconds": seconds}}))
"""


def measure(keep: bool, repeats: int) -> dict:
    code = CHILD.format(root=ROOT, keep=keep, repeats=repeats)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="fresh-process pairs, alternating the order")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (of 3 steps) per process")
    args = parser.parse_args()
    samples = {False: [], True: []}
    for round_ in range(args.rounds):
        for keep in ((False, True) if round_ % 2 == 0 else (True, False)):
            result = measure(keep, args.repeats)
            if keep and not result["applied"]:
                print("keep_freed_memory() was not accepted here (not glibc?): nothing to compare")
                return 1
            samples[keep] += result["seconds"]
    default, kept = statistics.median(samples[False]), statistics.median(samples[True])
    print(f"medium step, glibc defaults: {default * 1e3:.1f} ms (median of {len(samples[False])})")
    print(f"medium step, keep_freed_memory(): {kept * 1e3:.1f} ms (median of {len(samples[True])})")
    print(f"ratio defaults/kept {default / kept:.2f} (above 1: keeping freed memory is faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
