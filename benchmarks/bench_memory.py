"""Peak RSS of a fresh tiny training process (ours and PyTorch's), and RSS growth over further steps.
Run from the repository root: python benchmarks/bench_memory.py [--no-torch] [--repeats N]"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinytorch.bench.report import main  # noqa: E402
from tinytorch.runtime.allocator import keep_freed_memory  # noqa: E402

if __name__ == "__main__":
    keep_freed_memory()  # this script owns its process (tinytorch/core/allocator.py)
    sys.exit(main(["memory"], description=__doc__.splitlines()[0]))
