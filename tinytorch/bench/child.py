"""Entry point of the fresh process that `memory.run_child` starts: `python -m tinytorch.bench.child KIND [STEPS]`."""

import json
import sys

from ..runtime.allocator import keep_freed_memory
from .memory import child

if sys.argv[1] in ("tinytorch", "leak"):  # our training runs as under the `tinytorch` command; torch's keeps glibc's defaults
    keep_freed_memory()
print(json.dumps(child(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)))
