"""Medium GPT training tokens/s (4 layers, 128 dim, batch 16 x 128) at 1 and 2 threads, against PyTorch eager.
Run from the repository root: python benchmarks/bench_medium.py [--no-torch] [--repeats N]"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinytorch.bench.report import main  # noqa: E402
from tinytorch.runtime.allocator import keep_freed_memory  # noqa: E402

if __name__ == "__main__":
    keep_freed_memory()  # this script owns its process (tinytorch/core/allocator.py)
    sys.exit(main(["medium"], description=__doc__.splitlines()[0]))
