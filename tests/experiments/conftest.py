"""One full default run of the copilot milestone, shared by the script and generation-quality tests."""

from __future__ import annotations

import time

import pytest

from integration_helpers import run_script


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """(completed process, wall seconds, checkpoint path) of `vaswani_copilot.py --train-only`, defaults only."""
    checkpoint = tmp_path_factory.mktemp("copilot") / "copilot.safetensors"
    start = time.perf_counter()
    proc = run_script("--train-only", "--checkpoint", checkpoint)
    seconds = time.perf_counter() - start
    return proc, seconds, checkpoint
