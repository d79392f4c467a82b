"""tinytorch/README.md maps every module of the package to its concept: no module left out, no dead link."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAP = ROOT / "tinytorch" / "README.md"


def test_every_link_of_the_package_map_resolves():
    targets = re.findall(r"\]\(([^)#]+)\)", MAP.read_text(encoding="utf-8"))
    missing = [t for t in targets if not (MAP.parent / t).exists()]
    assert targets and not missing, f"tinytorch/README.md links to missing paths: {missing}"


def _only_reexports(path: Path) -> bool:
    """An older import path kept working: its body is imports (and `__all__`) only."""
    import ast
    body = [n for n in ast.parse(path.read_text(encoding="utf-8")).body if not isinstance(n, ast.Expr)]
    return all(isinstance(n, (ast.Import, ast.ImportFrom, ast.Assign)) for n in body)


def test_every_module_and_package_folder_is_on_the_map():
    text = MAP.read_text(encoding="utf-8")
    package = ROOT / "tinytorch"
    layers = ["runtime", "core", "nn", "text", "optim", "data", "training"]  # each of their modules has a row
    modules = [p.relative_to(package).as_posix() for layer in layers for p in (package / layer).glob("*.py")
               if p.name != "__init__.py" and not _only_reexports(p)]
    folders = [p.name + "/" for p in package.iterdir() if (p / "__init__.py").exists()]
    missing = [name for name in modules + folders if f"({name}" not in text]
    assert not missing, f"add these to tinytorch/README.md (module -> concept -> tour chapter): {missing}"
