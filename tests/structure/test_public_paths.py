"""Every public import path of the package before the restructure still imports the same object.

`public_paths.json` was written from the package as it stood before its modules moved out of
`core/`: for each module, its public names (those it defines, or lists in `__all__`), each with a
key naming the object. Names that shared an object then must share one now.
"""

import importlib
import json
from pathlib import Path

import pytest

PATHS = json.loads((Path(__file__).with_name("public_paths.json")).read_text())
# Removed on purpose as dead code (never called, not TinyTorch API).
DEAD = {("tinytorch.core.validation", "check_probability"), ("tinytorch.bench.convergence", "plan_and_default"),
        ("tinytorch.experiments.copilot", "resume_copilot")}
# The experiments' own settings classes, replaced by GPTConfig + TrainConfig (the CLI's): each recipe is now
# a *_MODEL / *_TRAIN pair in the same module (e.g. PLAN_RECIPE -> PLAN_MODEL, PLAN_TRAIN).
MERGED_SETTINGS = {("tinytorch.experiments.recipes", "Recipe"), ("tinytorch.experiments.code_model", "CodeModelConfig"),
                   ("tinytorch.experiments.copilot", "copilot_config")} | {
    (module, name) for module in ("tinytorch.experiments.recipes", "tinytorch.experiments.memorization",
                                  "tinytorch.bench.convergence", "tinytorch.bench.report", "tinytorch.bench.workloads")
    for name in ("PLAN_RECIPE", "DEFAULT_RECIPE")} | {
    ("tinytorch.experiments.copilot", "COPILOT_CONFIG"), ("tinytorch.experiments.generalization", "GENERALIZATION_CONFIG"),
    ("tinytorch.experiments.pattern", "PATTERN_CONFIG"), ("tinytorch.experiments.resume", "RESUME_CONFIG")}
REMOVED = DEAD | MERGED_SETTINGS


def _is_library(module: str) -> bool:
    """The command's own modules (`tinytorch.cli.*`) are its internals, not an import path for users."""
    return not module.startswith("tinytorch.cli")


def _pairs():
    return [(module, name) for module, names in sorted(PATHS.items()) for name in sorted(names)
            if (module, name) not in REMOVED and _is_library(module)]


@pytest.mark.parametrize("module", sorted(m for m in PATHS if _is_library(m)))
def test_module_path_imports(module):
    importlib.import_module(module)


def test_every_name_imports_and_shared_objects_stay_shared():
    objects_by_key: dict = {}
    missing = []
    for module, name in _pairs():
        mod = importlib.import_module(module)
        if not hasattr(mod, name):
            missing.append(f"{module}.{name}")
            continue
        objects_by_key.setdefault(PATHS[module][name], []).append((f"{module}.{name}", getattr(mod, name)))
    assert not missing, f"{len(missing)} public names no longer import: {missing[:20]}"
    split = [key for key, found in objects_by_key.items() if len({id(obj) for _, obj in found}) > 1]
    assert not split, "paths that imported one object now import several: " + \
        "; ".join(f"{[p for p, _ in objects_by_key[k]]}" for k in split[:10])


def test_the_list_is_the_whole_package_of_then():
    assert len(PATHS) >= 90 and sum(len(v) for v in PATHS.values()) >= 700
    assert {"tinytorch.core.layers", "tinytorch.core.attention", "tinytorch.models.transformer",
            "tinytorch.text.tokenization", "tinytorch.nn", "tinytorch.optim"} <= set(PATHS)
