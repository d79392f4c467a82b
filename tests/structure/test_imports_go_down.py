"""The package's layers import only downward: no import cycle, not even through a function-local import.

Read from the source (`import_graph`), so a cycle that Python happens to tolerate today (an import
at the bottom of a file, inside a function, or through a package's `__init__`) still fails here.
"""

import pytest

from import_graph import PACKAGE_ROOT, Import, cycles, package_imports

# Each folder's rank: a module may import its own folder and lower ranks only.
RANKS = {
    "runtime": 0,      # what tinytorch asks of the machine: threads, allocator, atomic files
    "core": 1,         # the engine: Tensor, autograd, the differentiable ops
    "nn": 2,           # modules built on the engine: layers, attention, the GPT
    "text": 2,         # tokenizers and the bundled corpus
    "optim": 3,        # optimizers, schedules, clipping
    "data": 3,         # datasets and loaders
    "training": 4,     # the Trainer, callbacks, checkpoints
    "generation": 5,   # sampling and the KV cache
    "hf": 5,           # Hugging Face GPT-2 directories
    "pretrained": 6,   # load_pretrained: our checkpoints or a Hugging Face folder
    "testing": 6,      # gradcheck
    "experiments": 7,  # the test plan's experiments
    "report": 8,       # the HTML report of `verify --report`
    "bench": 8,        # speed and memory measurements
    "grading": 8,      # `verify --impl`: the plan run on someone else's implementation
    "cli": 100,        # the `tinytorch` command: the top, it may use the namespaces too
}
# Namespaces that only re-export, at the top whatever path they sit at.
NAMESPACES = {"tinytorch", "tinytorch.autograd", "tinytorch.nn", "tinytorch.optim", "tinytorch.models",
              "tinytorch.models.transformer", "tinytorch.text.embeddings", "tinytorch.data.loader",
              "tinytorch.data.python_snippets"}
# Upward imports inside a function, each with its reason (they close no cycle: see the cycle tests).
UPWARD_LOCAL = {
    ("tinytorch.nn.transformer", "tinytorch.generation"):
        "GPT.generate is TinyTorch's API; the sampling loop lives above the model it drives",
    ("tinytorch.bench.threads", "tinytorch.cli"):
        "the thread benchmark times the CLI's own model sizes",
}


# Upward imports at module level, each with its reason.
UPWARD = {
    ("tinytorch.testing", "tinytorch.grading.reference"):
        "the grader's numerical reference imports nothing of tinytorch (its worker loads it by path, beside a "
        "student's package also named tinytorch), so gradcheck reuses its central difference, not the reverse",
}


def _is_compat_path(module: str) -> bool:
    """Old paths kept working: a module whose whole body is one import statement (see public_paths.json)."""
    import ast
    path = PACKAGE_ROOT.parent / (module.replace(".", "/") + ".py")
    if not path.exists():
        return False
    body = [n for n in ast.parse(path.read_text()).body if not isinstance(n, ast.Expr)]
    return len(body) >= 1 and all(isinstance(n, (ast.ImportFrom, ast.Import, ast.Assign)) for n in body)


def rank(module: str) -> int:
    if module in NAMESPACES:
        return 99
    folder = module.split(".")[1] if "." in module else module
    return RANKS[folder]


# The grader's adapters run only in its worker, where `tinytorch` is the implementation being graded.
EDGES = [e for e in package_imports() if not e.source.startswith("tinytorch.grading.adapters")]


def _with_package_inits(edges: list[Import]) -> list[Import]:
    """Importing a.b.c runs a/b/__init__.py too: add that edge unless the importer lives inside a.b."""
    out = list(edges)
    for e in edges:
        parts = e.target.split(".")
        for cut in range(2, len(parts)):
            package = ".".join(parts[:cut])
            if not (e.source == package or e.source.startswith(package + ".")):
                out.append(Import(e.source, package, e.line, e.local))
    return out


def test_the_graph_is_read_at_all():
    modules = {e.source for e in EDGES}
    assert len(EDGES) > 200 and "tinytorch.core.tensor" in modules and "tinytorch.cli.train" in modules


def test_no_module_level_import_cycle():
    found = cycles(_with_package_inits([e for e in EDGES if not e.local]))
    assert not found, f"module-level import cycles: {found}"


def test_no_cycle_hidden_by_a_function_local_import():
    found = cycles(_with_package_inits(EDGES))
    assert not found, f"import cycles closed by function-local imports: {found}"


def test_every_folder_has_a_rank():
    folders = {e.source.split(".")[1] for e in EDGES if "." in e.source and e.source not in NAMESPACES}
    assert folders <= set(RANKS), f"folders without a rank in this test: {sorted(folders - set(RANKS))}"


def test_imports_go_only_downward():
    upward = []
    for e in EDGES:
        if e.source in NAMESPACES or _is_compat_path(e.source) or rank(e.target) <= rank(e.source):
            continue
        if e.local and (e.source, ".".join(e.target.split(".")[:2])) in UPWARD_LOCAL:
            continue
        if (e.source, e.target) in UPWARD:
            continue
        upward.append(f"{e.source}:{e.line} imports {e.target}")
    assert not upward, "imports that go up a layer:\n" + "\n".join(upward)


@pytest.mark.parametrize("pair", sorted(UPWARD_LOCAL))
def test_each_allowed_upward_import_still_exists(pair):
    source, target = pair
    assert any(e.source == source and e.target.startswith(target) and e.local for e in EDGES), \
        f"{source} no longer imports {target}: drop it from UPWARD_LOCAL"


def test_the_engine_imports_nothing_above_it():
    engine = [e for e in EDGES if e.source.startswith("tinytorch.core.") and not _is_compat_path(e.source)]
    above = [f"{e.source} -> {e.target}" for e in engine if rank(e.target) > RANKS["core"]]
    assert engine and not above, above
