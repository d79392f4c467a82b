"""Test folders follow the package's layout; helpers shared by several folders live in tests/helpers/."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "helpers"))
