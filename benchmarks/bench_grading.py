"""Wall time of `tinytorch verify --impl` on correct implementations: tinytorch (as a TinyTorch-layout
folder) and the PyTorch example adapter, whole plan and --quick, interleaved fresh processes.

Run from the repository root: python benchmarks/bench_grading.py [--rounds N] [--no-torch]
Prints the median and range of each over N rounds (default 3); the machine is shared, so quote medians."""

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTORCH = os.path.join(ROOT, "tinytorch", "grading", "adapters", "pytorch_adapter.py")


def seconds(impl: str, quick: bool) -> float:
    """Wall time of one grading run as a user starts it; fails loudly if the implementation is not verified."""
    argv = [sys.executable, "-m", "tinytorch.cli", "verify", "--impl", impl] + (["--quick"] if quick else [])
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(argv[2:])} did not verify:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch adapter")
    args = parser.parse_args()
    cases = [("tinytorch, whole plan", ROOT, False), ("tinytorch, --quick", ROOT, True)]
    if not args.no_torch:
        cases += [("PyTorch adapter, whole plan", PYTORCH, False), ("PyTorch adapter, --quick", PYTORCH, True)]
    times = {name: [] for name, _, _ in cases}
    for _ in range(args.rounds):  # interleaved: a burst of load on the shared machine hits every case alike
        for name, impl, quick in cases:
            times[name].append(seconds(impl, quick))
    for name, values in times.items():
        print(f"{name:30s} median {statistics.median(values):6.1f} s  (min {min(values):.1f}, max {max(values):.1f}, "
              f"{len(values)} runs)")


if __name__ == "__main__":
    main()
