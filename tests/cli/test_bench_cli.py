"""`tinytorch bench`: the plan's layer-4 figures (steps/s, peak memory, steps to loss 0.1), quickly."""

import re

import pytest
from cli_helpers import run_cli, run_subprocess


@pytest.mark.slow  # about 10 s: a real training run, a fresh process for the memory figure
def test_bench_prints_the_three_layer4_figures():
    proc = run_subprocess("bench", timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    speed = re.search(r"^training speed: ([\d,]+) steps/s", out, re.M)
    memory = re.search(r"^peak memory: ([\d.]+) MiB", out, re.M)
    steps = re.search(r"^steps to loss 0\.1: (\d+|not reached) with the plan's recipe.*, (\d+|not reached) with our "
                      r"default recipe", out, re.M)
    assert speed and memory and steps, out
    # The plan's speed and memory baselines depend on the machine: bench reports them, the test does not.
    assert float(speed.group(1).replace(",", "")) > 0 and float(memory.group(1)) > 0
    speed_line = next(line for line in out.splitlines() if line.startswith("training speed:"))
    assert speed_line.endswith(("steps/s: met)", "steps/s: NOT met on this machine)")), speed_line
    assert steps.group(2) != "not reached" and int(steps.group(2)) <= 150  # the same on every machine
    assert re.search(r"^BLAS: \S+ \S+ kernel=\S+ threads=\d+", out, re.M), out
    # The threads are read back from threadpoolctl, not a label: the speed figure pins one thread.
    assert "BLAS threads in use: 1;" in speed_line, speed_line


def test_bench_help_describes_the_full_run(capsys):
    code, out, _ = run_cli(capsys, "bench", "--help")
    assert code == 0
    assert "--full" in out and "PyTorch" in out
