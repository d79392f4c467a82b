"""The grader (`tinytorch verify --impl`): both shipped adapters pass, a broken implementation fails the
right check with a taught message, and crashes, hangs and runaway memory are failed checks, not grader crashes."""

from __future__ import annotations

import os

import pytest

from tinytorch.grading.cli_output import select
from tinytorch.grading.data import grading_data
from tinytorch.grading.registry import CHECKS
from tinytorch.grading.runner import grade, resolve_impl

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADAPTERS = os.path.join(REPO, "tinytorch", "grading", "adapters")
PYTORCH = os.path.join(ADAPTERS, "pytorch_adapter.py")


def _grade(impl, names, **kw):
    return {o.name: o for o in grade(impl, [CHECKS[n] for n in names], data=grading_data(), **kw)}


def _failures(outcomes):
    return {name: o.measured for name, o in outcomes.items() if o.passed is False}


def _adapter_file(tmp_path, body: str) -> str:
    """An adapter built on the PyTorch example with `body` added to its class."""
    path = tmp_path / "broken_adapter.py"
    path.write_text("from tinytorch_grader.adapters.pytorch_adapter import PyTorchAdapter\n\n\n"
                    "class Broken(PyTorchAdapter):\n" + body + "\n\nADAPTER = Broken()\n")
    return str(path)


def test_tinytorch_itself_passes_the_quick_plan():
    outcomes = _grade(REPO, [c.name for c in select(quick=True, only=None)])
    assert not _failures(outcomes), _failures(outcomes)
    assert len(outcomes) == len(select(quick=True, only=None))


def test_pytorch_adapter_passes_the_quick_plan():
    pytest.importorskip("torch")
    outcomes = _grade(PYTORCH, [c.name for c in select(quick=True, only=None)])
    assert not _failures(outcomes), _failures(outcomes)


@pytest.mark.slow
@pytest.mark.parametrize("impl", ["tinytorch", "pytorch"])
def test_both_adapters_pass_the_whole_plan(impl):
    if impl == "pytorch":
        pytest.importorskip("torch")
    outcomes = _grade(REPO if impl == "tinytorch" else PYTORCH, list(CHECKS))
    assert not _failures(outcomes), _failures(outcomes)
    assert all(o.passed for o in outcomes.values())  # nothing skipped: both offer cached generation


def test_a_crash_is_a_failed_check_naming_the_error(tmp_path):
    pytest.importorskip("torch")
    impl = _adapter_file(tmp_path, "    def layer_norm(self, dim):\n        raise RuntimeError('planted crash')\n")
    outcomes = _grade(impl, ["component.layer_norm", "component.linear"])
    assert outcomes["component.layer_norm"].passed is False
    assert "RuntimeError: planted crash" in outcomes["component.layer_norm"].measured
    assert outcomes["component.linear"].passed is True  # the next check still runs


def test_a_hang_is_killed_and_the_next_check_runs_in_a_new_worker(tmp_path):
    pytest.importorskip("torch")
    impl = _adapter_file(tmp_path, "    def dropout(self, p):\n        while True:\n            pass\n")
    outcomes = _grade(impl, ["component.dropout", "component.linear"], timeout_scale=0.1)  # 3 s instead of 30
    assert outcomes["component.dropout"].passed is False
    assert "killed" in outcomes["component.dropout"].measured
    assert outcomes["component.linear"].passed is True


def test_runaway_memory_is_a_failed_check(tmp_path):
    pytest.importorskip("torch")
    impl = _adapter_file(tmp_path, "    def dropout(self, p):\n        import numpy\n"
                                   "        return numpy.ones((1 << 40,), dtype=numpy.uint8)\n")
    outcomes = _grade(impl, ["component.dropout", "component.linear"], memory_mb=1536)
    assert outcomes["component.dropout"].passed is False
    assert "memory" in outcomes["component.dropout"].measured.lower()
    assert outcomes["component.linear"].passed is True


def test_the_worker_does_not_import_the_grading_tinytorch(tmp_path):
    """An implementation named `tinytorch` must be the one graded: the worker imports no tinytorch itself."""
    pkg = tmp_path / "impl" / "tinytorch"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise ImportError('this is the student package, not tinytorch')\n")
    outcomes = _grade(str(tmp_path / "impl"), ["ops.elementwise"])
    assert outcomes["ops.elementwise"].passed is False
    assert "this is the student package" in outcomes["ops.elementwise"].measured


def test_every_op_the_checks_run_is_in_the_documented_protocol():
    import numpy as np

    from tinytorch.grading.checks_ops import _cases
    from tinytorch.grading.protocol import OPS

    used = {op for family in _cases(np.random.default_rng(0)).values() for _, op, arrays, _, _ in family}
    assert used == set(OPS), used ^ set(OPS)
    assert all(len(arrays) == OPS[op] for family in _cases(np.random.default_rng(0)).values()
               for _, op, arrays, _, _ in family)


def test_bad_impl_paths_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="no TinyTorch-layout package"):
        resolve_impl(str(tmp_path))
    with pytest.raises(ValueError, match="no such folder or .py adapter file"):
        resolve_impl(str(tmp_path / "missing.py"))


def test_failures_are_taught(tmp_path):
    """The message gives the measured value against the bar and the Debugging Checklist's likely cause."""
    pytest.importorskip("torch")
    impl = _adapter_file(tmp_path, "    def cross_entropy(self, logits, targets):\n"
                                   "        loss = super().cross_entropy(logits, targets)\n"
                                   "        return loss - loss.detach()\n")
    o = _grade(impl, ["loss.cross_entropy"])["loss.cross_entropy"]
    assert o.passed is False
    assert o.measured.startswith("your loss says 0.000, the logits say ")
    assert "Check Loss Computation" in o.cause and "1e-3" in o.bar
