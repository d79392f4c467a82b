"""benchmarks/bench_gemm_share.py lists exactly the linear-layer products of a training step and runs."""

import importlib.util
from pathlib import Path

from tinytorch.bench.workloads import MEDIUM

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_gemm_share.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_gemm_share", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_linear_shapes_are_three_products_per_linear_layer():
    shapes = _load().linear_shapes(MEDIUM)
    # 4 blocks x (q/k/v projection, output projection, fc1, fc2) + the head, each forward + 2 backward
    assert len(shapes) == (4 * 4 + 1) * 3
    assert all(a[1] == b[0] for a, b in shapes)
    n = MEDIUM.tokens_per_step
    assert ((n, 128), (128, 512)) in shapes and ((512, n), (n, 128)) in shapes


def test_script_prints_a_total(capsys):
    assert _load().main(["--workload", "nanogpt", "--repeats", "1", "--number", "1"]) == 0
    out = capsys.readouterr().out
    assert "linear-layer products at 1 thread" in out
    assert any(line.startswith("total: numpy ") for line in out.splitlines())
