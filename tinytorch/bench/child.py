"""Entry point of the fresh process that `memory.run_child` starts: `python -m tinytorch.bench.child KIND [STEPS]`."""

import json
import sys

from .memory import child

print(json.dumps(child(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)))
