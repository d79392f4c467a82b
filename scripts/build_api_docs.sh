#!/usr/bin/env bash
# Build the API reference from the docstrings with pdoc (offline): scripts/build_api_docs.sh [OUT_DIR]
# OUT_DIR defaults to site/api; open OUT_DIR/index.html. Needs `pip install -e '.[dev]'` (pdoc).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/site/api}"
python="${PYTHON:-python3}"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"

# pdoc walks a package's submodules, but only those in its __all__ when it has one, and tinytorch's
# __all__ names classes, not submodules; so each module pdoc's walk misses is added as a spec of its
# own. Left out: private modules (_name, __main__) and tinytorch.bench.child, the entry point of the
# memory benchmark's child process, which runs its measurement on import.
modules=$("$python" - <<'PY'
import pkgutil

from pdoc.extract import walk_specs

import tinytorch

ENTRY_POINTS = {"tinytorch.bench.child"}
wanted = [m.name for m in pkgutil.walk_packages(tinytorch.__path__, "tinytorch.")]
wanted = [n for n in wanted if n not in ENTRY_POINTS and not any(p.startswith("_") for p in n.split("."))]
specs, covered = ["tinytorch"], set(walk_specs(["tinytorch"]))
for name in wanted:
    if name not in covered:
        specs.append(name)
        covered.update(walk_specs([name]))
print(" ".join(specs))
PY
)
# shellcheck disable=SC2086  # one word per module
"$python" -m pdoc --docformat markdown --output-directory "$out" $modules
echo "API reference: $out/index.html"
