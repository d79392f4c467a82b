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
import json, resource, sys, time
sys.path.insert(0, {root!r})
from tinytorch.runtime.allocator import keep_freed_memory
from tinytorch.bench.common import thread_limit
from tinytorch.bench.workloads import MEDIUM, tinytorch_step
applied = keep_freed_memory() if {keep} else False
wall, cpu, faults = [], [], []
with thread_limit(1):
    step = tinytorch_step(MEDIUM)
    for _ in range(3):  # warm-up
        step()
    for _ in range({repeats}):
        t0, c0, f0 = time.perf_counter(), time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(3):
            step()
        wall.append((time.perf_counter() - t0) / 3)
        cpu.append((time.process_time() - c0) / 3)
        faults.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / 3)
print(json.dumps({{"applied": applied, "wall": wall, "cpu": cpu, "faults": faults}}))
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
    kinds = ("wall", "cpu", "faults")
    samples = {(keep, kind): [] for keep in (False, True) for kind in kinds}
    for round_ in range(args.rounds):
        for keep in ((False, True) if round_ % 2 == 0 else (True, False)):
            result = measure(keep, args.repeats)
            if keep and not result["applied"]:
                print("keep_freed_memory() was not accepted here (not glibc?): nothing to compare")
                return 1
            for kind in kinds:
                samples[keep, kind] += result[kind]
    for kind, what in (("wall", "wall-clock"), ("cpu", "CPU (user+system)")):
        default, kept = statistics.median(samples[False, kind]), statistics.median(samples[True, kind])
        print(f"medium step {what}: glibc defaults {default * 1e3:.1f} ms, keep_freed_memory() {kept * 1e3:.1f} ms "
              f"(medians of {len(samples[False, kind])}), ratio defaults/kept {default / kept:.2f}")
    print(f"minor page faults per medium step: glibc defaults {statistics.median(samples[False, 'faults']):,.0f}, "
          f"keep_freed_memory() {statistics.median(samples[True, 'faults']):,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
