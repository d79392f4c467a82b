"""`tinytorch doctor` with no arguments checks the machine: python, packages, BLAS and threads, a training step."""

from __future__ import annotations

import re

import tinytorch
import tinytorch.runtime.threads

from cli_helpers import run_cli

LINE = re.compile(r"^([✓✗]) (\d\. [^:]+): (.*)$")


def _checks(out: str) -> dict:
    return {m[2]: (m[1] == "✓", m[3]) for m in map(LINE.match, out.splitlines()) if m}


def test_doctor_alone_checks_python_packages_blas_threads_and_a_step(capsys):
    code, out, err = run_cli(capsys, "doctor")
    checks = _checks(out)
    assert code == 0, out + err
    for name in ("1. Python", "2. numpy", "2. safetensors", "2. threadpoolctl", "2. torch (optional)",
                 "2. transformers (optional)", "3. BLAS", "3. Threads", "4. Training step"):
        assert name in checks, f"{name} missing from:\n{out}"
        assert checks[name][0], out
    import numpy
    assert checks["2. numpy"][1] == numpy.__version__
    assert re.search(r"kernel=\S+ threads=\d+", checks["3. BLAS"][1])
    assert re.search(r"on \d+ BLAS thread\(s\); loss \d", checks["4. Training step"][1])
    assert f"{len(checks)}/{len(checks)} checks passed" in out


def test_doctor_reports_the_threads_it_was_told_to_use(capsys):
    threads = min(3, tinytorch.runtime.threads._usable_cores())  # more than the cores is capped (with a notice)
    code, out, _ = run_cli(capsys, "doctor", "--threads", str(threads))
    assert tinytorch.runtime.threads.policy().requested is None  # the command's choice ends with the command
    assert code == 0, out
    checks = _checks(out)
    assert checks["3. Threads"][1].startswith("fixed by you")
    assert f"on {threads} BLAS thread(s)" in checks["4. Training step"][1]
