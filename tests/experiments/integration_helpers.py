"""Running the copilot milestone script as a user does, for the integration tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "milestones" / "05_2017_transformer" / "vaswani_copilot.py"


def run_script(*args, timeout=300, **kwargs) -> subprocess.CompletedProcess:
    """The milestone script from the repo root, as the test plan runs it; stdin is not a terminal."""
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, **kwargs)
