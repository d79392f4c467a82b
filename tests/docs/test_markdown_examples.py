"""Every ```python block of README.md and docs/**/*.md runs: one test per block, failing with its file and line.

Blocks of one file share a namespace, in order; ```python no-run marks a block that is only shown.
"""

from __future__ import annotations

import os
import traceback

import pytest

from markdown_blocks import ROOT, markdown_files, python_blocks

BLOCKS = [block for path in markdown_files() for block in python_blocks(path)]


class FileRun:
    """The shared namespace of one Markdown file and how far its blocks have run."""

    def __init__(self, workdir):
        self.namespace = {"__name__": "__markdown__"}
        self.workdir = workdir
        self.done = 0  # blocks of the file run so far (in order)
        self.failed = None  # the block that raised, if one did


_runs: dict = {}


def _execute(block, run: FileRun) -> None:
    # Pad with blank lines so tracebacks and line numbers point into the Markdown file itself.
    code = compile("\n" * (block.line - 1) + block.source, str(block.path), "exec")
    previous = os.getcwd()
    os.chdir(run.workdir)
    try:
        exec(code, run.namespace)
    finally:
        os.chdir(previous)


def _failure_message(block, exc: BaseException) -> str:
    """'file:line: ...' at the failing line, then the traceback from the block's first frame on."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != str(block.path):
        tb = tb.tb_next  # drop the harness's own frames
    lines = [f.lineno for f in traceback.extract_tb(tb)[:1]] if tb is not None else []
    if isinstance(exc, SyntaxError) and exc.lineno:
        lines = [exc.lineno]
    where = f"{block.where.rsplit(':', 1)[0]}:{lines[0]}" if lines else block.where
    detail = "".join(traceback.format_exception(type(exc), exc, tb))
    return f"{where}: the python block starting at {block.where} raised {type(exc).__name__}: {exc}\n\n{detail}"


def _try(block, run: FileRun) -> str | None:
    """Run one block; on an exception, mark the file's run as failed and return the message."""
    try:
        _execute(block, run)
    except Exception as exc:  # noqa: BLE001 - reported as a failure naming the Markdown file and line
        run.failed = block
        return _failure_message(block, exc)
    return None


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.runs], ids=lambda b: b.where)
def test_markdown_python_block_runs(block, tmp_path_factory):
    file_blocks = [b for b in python_blocks(block.path) if b.runs]
    run = _runs.get(block.path)
    if run is None:
        run = _runs[block.path] = FileRun(tmp_path_factory.mktemp("markdown"))
    position = file_blocks.index(block)
    if run.done > position:  # this block already ran once (a repeated run): start the file afresh
        run = _runs[block.path] = FileRun(tmp_path_factory.mktemp("markdown"))
    for earlier in file_blocks[run.done:position]:
        if run.failed is None:
            error = _try(earlier, run)
            if error:
                pytest.fail(error, pytrace=False)
        run.done += 1
    if run.failed is not None:
        pytest.skip(f"{block.where}: not run, the earlier block at {run.failed.where} failed")
    run.done += 1
    error = _try(block, run)
    if error:
        pytest.fail(error, pytrace=False)


def test_collection_finds_the_readme_and_every_tour_chapter():
    runnable = {b.path for b in BLOCKS if b.runs}
    assert ROOT / "README.md" in runnable, "no runnable ```python block found in README.md"
    chapters = sorted((ROOT / "docs" / "tour").glob("[0-9][0-9]-*.md"))
    assert len(chapters) >= 14, f"expected the 14 tour chapters, found {[c.name for c in chapters]}"
    missing = [c.name for c in chapters if c not in runnable]
    assert not missing, f"tour chapters without a runnable ```python example: {missing}"
