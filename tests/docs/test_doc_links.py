"""The docs cannot point at nothing: every relative link resolves, every figure is used and regenerable."""

from __future__ import annotations

import importlib.util
import re

import pytest

from markdown_blocks import ROOT, fenced_blocks, markdown_files, relative_links

DOCS = markdown_files()
TOUR = sorted((ROOT / "docs" / "tour").glob("[0-9][0-9]-*.md"))
STATUS_START, STATUS_END = "<!-- status:start -->", "<!-- status:end -->"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(path):
    broken = [f"{path.relative_to(ROOT).as_posix()}:{line}: {target}"
              for line, target in relative_links(path) if target and not (path.parent / target).exists()]
    assert not broken, "links to files that do not exist:\n" + "\n".join(broken)


@pytest.mark.parametrize("path", TOUR, ids=lambda p: p.name)
def test_tour_chapter_links_the_source_it_explains(path):
    sources = [t for _, t in relative_links(path) if "tinytorch/" in t and t.endswith(".py")]
    assert sources, f"{path.name}: no link to a tinytorch source file"


def test_tour_chapters_are_numbered_without_gaps_and_listed_in_the_index():
    numbers = [int(p.name[:2]) for p in TOUR]
    assert numbers == list(range(1, len(TOUR) + 1)), f"chapter numbers {numbers}"
    listed = {target for _, target in relative_links(ROOT / "docs" / "tour" / "README.md")}
    missing = [p.name for p in TOUR if p.name not in listed]
    assert not missing, f"chapters missing from docs/tour/README.md: {missing}"


def test_docs_have_no_emoji_outside_generated_blocks():
    emoji = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")
    found = []
    for path in [*TOUR, ROOT / "docs" / "tour" / "README.md", ROOT / "docs" / "TEST_PLAN.md"]:
        text = path.read_text(encoding="utf-8")
        if STATUS_START in text:  # the status block is written by `tinytorch verify`, marks included
            text = text[: text.index(STATUS_START)] + text[text.index(STATUS_END):]
        # A command's output pasted verbatim (its check marks included) sits between output markers.
        text = re.sub(r"<!-- output:start -->.*?<!-- output:end -->", "", text, flags=re.S)
        found += [f"{path.name}: {line.strip()[:60]}" for line in text.splitlines() if emoji.search(line)]
    assert not found, "emoji in the docs:\n" + "\n".join(found)


def test_test_plan_has_one_status_block_for_verify_to_rewrite():
    text = (ROOT / "docs" / "TEST_PLAN.md").read_text(encoding="utf-8")
    assert text.count(STATUS_START) == 1 and text.count(STATUS_END) == 1
    assert text.index(STATUS_START) < text.index(STATUS_END)
    assert "tinytorch verify --write-plan docs/TEST_PLAN.md" in text


def test_test_plan_commands_name_existing_paths():
    """Every path in a ```bash block of the plan (tests/..., milestones/..., scripts/...) exists."""
    missing = []
    for block in fenced_blocks(ROOT / "docs" / "TEST_PLAN.md"):
        if block.language != "bash":
            continue
        for path in re.findall(r"(?<![\w/.-])((?:tests|milestones|scripts|benchmarks)/[\w./-]+)", block.source):
            if not (ROOT / path.split("::")[0]).exists():
                missing.append(f"line {block.line}: {path}")
    assert not missing, "TEST_PLAN.md commands name paths that do not exist:\n" + "\n".join(missing)


def _figure_script():
    spec = importlib.util.spec_from_file_location("make_figures", ROOT / "scripts" / "make_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_committed_figure_is_made_by_the_script_and_shown_in_the_docs():
    made = set(_figure_script().FIGURES)
    on_disk = {p.stem for p in (ROOT / "docs" / "figures").glob("*.png")}
    assert on_disk == made, f"docs/figures holds {sorted(on_disk)}, scripts/make_figures.py makes {sorted(made)}"
    shown = {target.rsplit("/", 1)[-1][:-4] for path in DOCS for _, target in relative_links(path)
             if target.endswith(".png")}
    assert made <= shown, f"figures no document shows: {sorted(made - shown)}"


def test_figure_script_draws_the_computation_graph(tmp_path):
    """The cheapest figure, regenerated into a scratch folder: a real PNG, and a valid topological order."""
    script = _figure_script()
    assert script.main(["--out", str(tmp_path), "--only", "computation_graph"]) == 0
    png = (tmp_path / "computation_graph.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000

    from tinytorch import Tensor

    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x.tanh()
    loss = (h * (1 - h)).sum()
    order = script.topological_order(loss)
    position = {id(n): i for i, n in enumerate(order)}
    assert order[-1] is loss and len(order) == 6  # x, tanh, the constant 1, sub, mul, sum
    for node in order:
        for parent in (node._ctx.inputs if node._ctx is not None else ()):
            assert position[id(parent)] < position[id(node)]
