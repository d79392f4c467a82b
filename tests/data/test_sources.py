"""--data as files, folders and globs: one text in sorted order with a separator, and clear errors."""

from __future__ import annotations

import pytest

from tinytorch.data.sources import SEPARATOR, TextSource, corpus_name, resolve


def _tree(tmp_path):
    (tmp_path / "b.txt").write_text("bee", encoding="utf-8")
    (tmp_path / "a.txt").write_text("ant", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.md").write_text("cat", encoding="utf-8")
    (tmp_path / ".hidden").write_text("no", encoding="utf-8")
    return tmp_path


def test_a_folder_is_its_files_sorted_and_joined_with_the_separator(tmp_path):
    root = _tree(tmp_path)
    source = TextSource(str(root))
    assert [p.rsplit("/", 1)[-1] for p in source.files] == ["a.txt", "b.txt", "c.md"]
    assert source.read() == SEPARATOR.join(["ant", "bee", "cat"])
    assert source.size == len(source.read().encode("utf-8"))


def test_globs_and_several_names_are_sorted_without_repeats(tmp_path):
    root = _tree(tmp_path)
    files = resolve([str(root / "*.txt"), str(root / "a.txt"), str(root / "**" / "*.md")])
    assert [f.rsplit("/", 1)[-1] for f in files] == ["a.txt", "b.txt", "c.md"]
    assert corpus_name(str(root / "*.txt")) == root.name and corpus_name(str(root / "a.txt")) == "a"


@pytest.mark.parametrize("spec, fragment", [
    ("nothing/*.txt", "no files match"), ("missing.txt", "no such file or folder"), ("{empty_dir}", "has no files"),
])
def test_names_that_match_nothing_say_what_to_do(tmp_path, spec, fragment):
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(ValueError, match=fragment):
        resolve(spec.format(empty_dir=tmp_path / "empty_dir"))


def test_bad_utf8_names_the_file_and_offset_and_multibyte_chars_survive_block_edges(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("é" * 1001 + "\U0001F600" * 7, encoding="utf-8")
    assert TextSource(str(good), block_bytes=3).read() == good.read_text(encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine text \xff here")
    with pytest.raises(ValueError, match=r"bad.txt' is not UTF-8 text .* byte 10"):
        TextSource(str(bad)).fingerprint()
