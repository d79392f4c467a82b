"""The tiny training step's time as a multiple of the time of its matmuls alone.
Run from the repository root: python benchmarks/bench_matmul_bound.py [--no-torch] [--repeats N]"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinytorch.bench.report import main  # noqa: E402
from tinytorch.runtime.allocator import keep_freed_memory  # noqa: E402

if __name__ == "__main__":
    keep_freed_memory()  # this script owns its process (tinytorch/core/allocator.py)
    sys.exit(main(["matmul"], description=__doc__.splitlines()[0]))
