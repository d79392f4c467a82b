"""Tiny training steps/s (the plan's memorization step) against PyTorch eager, 1 thread.
Run from the repository root: python benchmarks/bench_tiny.py [--no-torch] [--repeats N]"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinytorch.bench.report import main  # noqa: E402
from tinytorch.runtime.allocator import keep_freed_memory  # noqa: E402

if __name__ == "__main__":
    keep_freed_memory()  # this script owns its process (tinytorch/core/allocator.py)
    sys.exit(main(["tiny"], description=__doc__.splitlines()[0]))
