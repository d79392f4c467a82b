"""The API reference builds from the docstrings (pdoc, offline), and every module imports without side effects."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys

import pytest

import tinytorch
from markdown_blocks import ROOT

ENTRY_POINTS = {"tinytorch.bench.child"}  # `python -m` entry points that run on import (as the build script says)
MODULES = [m.name for m in pkgutil.walk_packages(tinytorch.__path__, "tinytorch.")]
PUBLIC = ["tinytorch"] + [n for n in MODULES if n not in ENTRY_POINTS and not any(p.startswith("_") for p in n.split("."))]
KEY_PAGES = {  # page -> text its docstrings must put there
    "tinytorch.html": "Tensor",
    "tinytorch/core/tensor.html": "records the operations applied to it",
    "tinytorch/core/autograd.html": "reverse topological order",
    "tinytorch/nn/layers.html": "Linear",
    "tinytorch/nn/attention.html": "MultiHeadAttention",
    "tinytorch/nn/transformer.html": "GPT",
    "tinytorch/generation.html": "generate",
    "tinytorch/generation/kv_cache.html": "KVCache",
    "tinytorch/core/ops/elementwise.html": "unbroadcast",
    "tinytorch/experiments/memorization.html": "run_memorization",
}


@pytest.mark.slow  # a fresh interpreter imports everything, PyTorch included when installed
def test_every_public_module_imports_with_no_output_and_no_files(tmp_path):
    """In a fresh interpreter and an empty working directory: imports print nothing and write nothing."""
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", code, *PUBLIC], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"importing the modules failed:\n{done.stderr[-3000:]}"
    assert done.stdout == "" and done.stderr == "", f"imports printed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    assert list(tmp_path.iterdir()) == [], f"imports created files: {sorted(p.name for p in tmp_path.iterdir())}"


@pytest.mark.slow
def test_api_reference_builds_with_a_page_per_module(tmp_path):
    pytest.importorskip("pdoc", reason="pdoc is in the dev extra: pip install -e '.[dev]'")
    out = tmp_path / "api"
    done = subprocess.run(["bash", str(ROOT / "scripts" / "build_api_docs.sh"), str(out)],
                          env=dict(os.environ, PYTHON=sys.executable), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"scripts/build_api_docs.sh failed:\n{done.stderr[-3000:]}"
    assert "Warn" not in done.stderr and "Error" not in done.stderr, f"pdoc complained:\n{done.stderr[-3000:]}"
    assert (out / "index.html").is_file()
    missing = [name for name in PUBLIC if not (out / (name.replace(".", "/") + ".html")).is_file()]
    assert not missing, f"modules without an API page: {missing}"
    for page, text in KEY_PAGES.items():
        html = (out / page).read_text(encoding="utf-8")
        assert text in html, f"{page} does not mention {text!r}"
