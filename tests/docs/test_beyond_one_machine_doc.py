"""docs/BEYOND_ONE_MACHINE.md runs as written: its ```bash commands in order, its ```python file=NAME scripts saved.

The page trains, exports, continues training with transformers' Trainer and samples the result;
it needs transformers, torch and accelerate, and is skipped without them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "BEYOND_ONE_MACHINE.md"


def _markdown_blocks():
    """tests/docs/markdown_blocks.py, the one parser of the docs' fenced blocks."""
    if "markdown_blocks" in sys.modules:  # already imported by tests/docs in this run
        return sys.modules["markdown_blocks"]
    spec = importlib.util.spec_from_file_location("markdown_blocks", ROOT / "tests" / "docs" / "markdown_blocks.py")
    module = sys.modules["markdown_blocks"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page_blocks() -> list:
    blocks = _markdown_blocks()
    return [b for b in blocks.fenced_blocks(PAGE) if b.language in ("bash", "python")]


def test_every_block_is_a_command_a_script_or_marked_not_run():
    blocks = _page_blocks()
    scripts = [b.file_name for b in blocks if b.language == "python"]
    assert scripts == ["finetune.py", "inspect_model.py"], "each python block is a script the page runs"
    for name in scripts:
        assert any(f"python3 {name}" in b.source for b in blocks if b.language == "bash"), f"{name} is never run"
    assert sum("no-run" in b.options for b in blocks) == 1  # only the multi-GPU launch


def test_the_page_runs_from_top_to_bottom(tmp_path):
    pytest.importorskip("transformers")
    pytest.importorskip("torch")
    pytest.importorskip("accelerate")  # transformers' Trainer needs it (the hf extra brings it)
    # `tinytorch` and `python3` are this interpreter's (the CI venv's), as for a reader with it activated.
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    outputs = []
    for block in _page_blocks():
        if "no-run" in block.options:
            continue
        if block.file_name:
            (tmp_path / block.file_name).write_text(block.source, encoding="utf-8")
            continue
        result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block.source], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"{block.where}: exit {result.returncode}\n{result.stderr[-3000:]}"
        outputs.append(result.stdout)

    assert (tmp_path / "code-hf" / "tokenizer.json").is_file()
    finetuned = json.loads((tmp_path / "code-hf-finetuned" / "config.json").read_text())
    assert finetuned["model_type"] == "gpt2" and finetuned["n_layer"] == 1
    generated = [out for out in outputs if out.startswith("def ")]
    assert len(generated) == 1 and len(generated[0]) > len("def ") + 1  # `tinytorch generate` sampled something
    assert "loss on the first" in outputs[-1]  # inspect_model.py ran to its report
