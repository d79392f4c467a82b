"""Find the documentation's Markdown files, their fenced ```python blocks and their relative links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NO_RUN = "no-run"  # ```python no-run: shown, not executed (use only where running is impossible)
FILE = "file="  # ```python file=NAME: a script the reader saves; the page's own test writes it and runs its commands

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*?)\s*$")
_LINK = re.compile(r"!?\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")


@dataclass(frozen=True)
class Block:
    """One fenced code block: the file, the line of its first code line, its language and options."""

    path: Path
    line: int  # 1-based line number of the first line inside the fence
    language: str
    options: tuple
    source: str

    @property
    def runs(self) -> bool:
        return self.language == "python" and NO_RUN not in self.options and self.file_name is None

    @property
    def file_name(self) -> str | None:
        """NAME of a ```python file=NAME block (None for other blocks)."""
        return next((o[len(FILE):] for o in self.options if o.startswith(FILE)), None)

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"


def markdown_files() -> list[Path]:
    """README.md and every Markdown file under docs/, in a stable order."""
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [f for f in files if f.is_file()]


def fenced_blocks(path: Path) -> list[Block]:
    """Every fenced code block of a Markdown file, in order (CommonMark fences, up to 3 spaces indent)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        words = opening["info"].split()
        body, j = [], i + 1
        while j < len(lines):
            closing = _FENCE.match(lines[j])
            if closing and closing["fence"][0] == fence[0] and len(closing["fence"]) >= len(fence) and not closing["info"]:
                break
            text = lines[j]
            body.append(text[min(indent, len(text) - len(text.lstrip(" "))):])  # drop the fence's indent
            j += 1
        language = words[0].lower() if words else ""
        blocks.append(Block(path, i + 2, language, tuple(words[1:]), "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def python_blocks(path: Path) -> list[Block]:
    return [b for b in fenced_blocks(path) if b.language == "python"]


def relative_links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every link or image outside code blocks that points into the repository."""
    code_lines = set()
    for block in fenced_blocks(path):
        code_lines.update(range(block.line - 1, block.line + block.source.count("\n") + 1))
    found = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number in code_lines:
            continue
        text = re.sub(r"`[^`]*`", "", text)  # inline code is not a link
        for match in _LINK.finditer(text):
            target = match["target"]
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
                continue  # a URL, mailto: or an anchor in the same page
            found.append((number, target.split("#", 1)[0]))
    return found
