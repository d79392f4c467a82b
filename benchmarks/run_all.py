"""Every benchmark in one run: tiny, medium, memory, convergence, generation and the matmul bound.
Documented figures: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run_all.py [--no-torch] [--repeats N]"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinytorch.bench.report import SECTIONS, main  # noqa: E402
from tinytorch.runtime.allocator import keep_freed_memory  # noqa: E402

if __name__ == "__main__":
    keep_freed_memory()  # this script owns its process (tinytorch/core/allocator.py)
    sys.exit(main(list(SECTIONS), description=__doc__.splitlines()[0]))
