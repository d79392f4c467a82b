"""The benchmark scripts that record issue 23's figures still run: each at its smallest setting, in a fresh
process as a user runs it, printing the figure it exists for. (Three of them broke silently when the
settings classes changed; this is what catches that.) Timings are not checked: benchmarks are not tests."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANG_LIMIT_S = 300  # a generous limit that only catches a hang

CASES = {
    "bench_split.py": (["--rounds", "1", "--number", "1", "--no-calls"], "linear matmuls"),
    "bench_kv_generation.py": (["--lengths", "8", "--rounds", "1"], "8 new tokens: tinytorch"),
    "bench_context_memory.py": (["--lengths", "64", "256", "--rounds", "0"], "T=  256 B= 8 (2048 tokens)"),
    "bench_retained_graph.py": (["--workload", "tiny", "--steps", "2"], "per step kept by the loss tensors"),
}


@pytest.mark.parametrize("script", sorted(CASES))
def test_script_runs_and_prints_its_figure(script):
    args, expected = CASES[script]
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=HANG_LIMIT_S)
    assert run.returncode == 0, run.stderr[-2000:]
    assert expected in run.stdout, run.stdout[-2000:]
