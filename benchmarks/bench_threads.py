"""tinytorch's own BLAS thread choice against pinned 1 and 2 threads: `tinytorch train` and a plain loop, quiet and
with one core kept busy. Run from the repository root: python benchmarks/bench_threads.py [--repeats N]"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinytorch.bench.common import machine_notes  # noqa: E402
from tinytorch.bench.threads import compare, quiet_step_ms  # noqa: E402

# (size, steps, with a busy core): the cases the thread defaults were chosen on (BENCHMARKS.md, "Threads").
CASES = [("tiny", 150, True), ("tiny", 150, False), ("medium", 20, False), ("medium", 20, True)]
# (size, steps, with a busy core): a plain loop a user writes (issue 21), timed the same way.
LOOP_CASES = [("tiny", 150, True), ("tiny", 150, False)]

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per setting (default 3)")
    parser.add_argument("--case", choices=("tiny-busy", "tiny", "medium", "medium-busy", "loop-busy", "loop"), action="append",
                        help="only these cases (default all)")
    parser.add_argument("--quiet-steps", type=float, metavar="SECONDS", default=None,
                        help="instead: per-step times at 1 and 2 threads over SECONDS, kept only while the machine "
                             "is otherwise idle")
    args = parser.parse_args()
    for line in machine_notes():
        print(line)
    if args.quiet_steps:
        quiet_step_ms(args.quiet_steps)
        sys.exit(0)
    for size, steps, busy in CASES:
        name = size + ("-busy" if busy else "")
        if not args.case or name in args.case:
            compare(size, steps, args.repeats, busy)
    for size, steps, busy in LOOP_CASES:
        if not args.case or ("loop-busy" if busy else "loop") in args.case:
            compare(size, steps, args.repeats, busy, loop=True)
