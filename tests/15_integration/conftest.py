"""One full default run of the copilot milestone, shared by the script and generation-quality tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "milestones" / "05_2017_transformer" / "vaswani_copilot.py"


def run_script(*args, timeout=300, **kwargs) -> subprocess.CompletedProcess:
    """The milestone script from the repo root, as the test plan runs it."""
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "PYTHONWARNINGS": "default"}, **kwargs)


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """(completed process, wall seconds, checkpoint path) of `vaswani_copilot.py --train-only`, defaults only."""
    checkpoint = tmp_path_factory.mktemp("copilot") / "copilot.safetensors"
    start = time.perf_counter()
    proc = run_script("--train-only", "--checkpoint", checkpoint)
    seconds = time.perf_counter() - start
    return proc, seconds, checkpoint
