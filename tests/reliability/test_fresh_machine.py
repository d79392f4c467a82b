"""A machine without PyTorch or transformers: every module imports, and torch-only paths say how to install it."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import tinytorch

ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINTS = {"tinytorch.bench.child"}  # `python -m` entry points that run on import
MODULES = ["tinytorch"] + [m.name for m in pkgutil.walk_packages(tinytorch.__path__, "tinytorch.")
                           if m.name not in ENTRY_POINTS and not m.name.endswith(".__main__")]

# Installed first in the child interpreter: any import of torch or transformers fails as if not installed.
BLOCKER = """
import importlib.abc, sys
BLOCKED = {"torch", "transformers"}
class Uninstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Uninstalled())
"""


def run_without_torch(code: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-c", BLOCKER + code, *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_blocker_really_hides_torch():
    done = run_without_torch("import torch")
    assert done.returncode != 0 and "No module named 'torch'" in done.stderr


def test_every_module_imports_without_torch_or_transformers():
    done = run_without_torch("import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
                             "print('imported', len(sys.argv) - 1)", *MODULES)
    assert done.returncode == 0, f"a module needs torch or transformers at import time:\n{done.stderr[-3000:]}"
    assert done.stdout.strip() == f"imported {len(MODULES)}"


def test_the_torch_reference_says_how_to_install_torch():
    code = ("from tinytorch.bench import torch_ref\nfrom tinytorch.bench.workloads import TINY, build_model\n"
            "try:\n    torch_ref.TorchGPT(build_model(TINY))\nexcept ImportError as exc:\n    print(exc)\n")
    done = run_without_torch(code)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "pip install torch==2.13.0" in done.stdout


def test_the_cli_runs_without_torch():
    done = run_without_torch("import sys\nfrom tinytorch.cli import main\nsys.exit(main(['--version']))")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("tinytorch ")


def test_doctor_passes_without_torch_and_says_how_to_add_it():
    done = run_without_torch("import sys\nfrom tinytorch.cli import main\nsys.exit(main(['doctor']))")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "✓ 2. torch (optional): not installed; adds the PyTorch parity tests" in done.stdout
    assert "pip install torch==2.13.0" in done.stdout
