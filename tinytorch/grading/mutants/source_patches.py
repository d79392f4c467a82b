"""Bugs planted in a copy of tinytorch itself: one text replacement each, found by content (not by path,
so the patches survive files moving). A replacement whose text is not found exactly once is an error."""

from __future__ import annotations

import os
import shutil

PER_PATH_BACKWARD = '''def run_backward(root, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Planted bug: push each gradient down every path separately (exponential in a graph with reuse)."""
    previous = _state.grad_enabled
    _state.grad_enabled = False
    try:
        _each_path(root, grad)
    finally:
        _state.grad_enabled = previous


def _each_path(node, g) -> None:
    if node._ctx is None:
        _store_leaf_grad(node, g)
        return
    grads = node._ctx.backward(g)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for parent, needs, pg in zip(node._ctx.inputs, node._ctx.needs_input_grad, grads):
        if needs and pg is not None:
            _each_path(parent, pg)


def _unused_run_backward(root, grad: np.ndarray, retain_graph: bool = False) -> None:'''

PATCHES = {
    "tinytorch_backward_per_path": [("def run_backward(root, grad: np.ndarray, retain_graph: bool = False) -> None:",
                                     PER_PATH_BACKWARD)],
    "tinytorch_broadcast_not_summed": [("        grad = grad.sum(axis=tuple(range(extra)))",
                                        "        grad = grad[(0,) * extra]  # planted bug: the first slice, not the sum")],
    "tinytorch_index_overwritten": [("np.add.at(full, self.index, grad)", "full[self.index] = grad  # planted bug")],
    "tinytorch_kv_positions_restart": [("start = 0 if kv_cache is None else kv_cache.length",
                                        "start = 0  # planted bug: cached tokens restart at position 0")],
}


def _python_files(root):
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        yield from (os.path.join(folder, f) for f in files if f.endswith(".py"))


def planted_copy(package_dir: str, name: str, dest: str) -> str:
    """Copy the `tinytorch` package at `package_dir` into dest/tinytorch with mutant `name`'s patches; returns dest."""
    target = os.path.join(dest, "tinytorch")
    shutil.copytree(package_dir, target, ignore=shutil.ignore_patterns("__pycache__", "grading"))
    for old, new in PATCHES[name]:
        hits = [(path, text) for path in _python_files(target)
                for text in [open(path, encoding="utf-8").read()] if old in text]
        count = sum(text.count(old) for _, text in hits)
        if count != 1:
            raise LookupError(f"mutant {name}: the text {old!r} occurs {count} times in tinytorch, not once; "
                              f"update tinytorch/grading/mutants/source_patches.py")
        path, text = hits[0]
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new))
    return dest
