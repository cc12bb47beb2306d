from __future__ import annotations

import re
from pathlib import Path

import pytest
from endurance.ingestion.chunking import MAX_CHARS, SECTION_SEPARATOR, chunk_markdown, split_sections

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus"
CORPUS_FILES = sorted(CORPUS.glob("*.md"))


def test_the_corpus_is_there() -> None:
    assert len(CORPUS_FILES) >= 10


def test_heading_paths_are_exact() -> None:
    doc = "IT_Budget_Statement_2023-24.md"
    sections = {chunk.section for chunk in chunk_markdown(doc, (CORPUS / doc).read_text())}
    assert "2. Budget Context > 2.1 Financial Year and Reporting Basis" in sections
    assert "5. Commentary on Major Line Items > 5.7 Cloud Migration Programme" in sections
    assert "3. Summary of IT Expenditure" in sections
    # The title is the document's, not a section level; the preamble under it is filed under the title.
    assert "IT Budget Statement 2023-24" in sections
    assert not any(s.startswith("IT Budget Statement 2023-24 >") for s in sections)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_every_section_with_text_is_chunked_under_its_full_path(path: Path) -> None:
    markdown = path.read_text()
    chunks = chunk_markdown(path.name, markdown)
    expected = _heading_paths(markdown)
    title, sections = split_sections(markdown)
    assert {s.name for s in sections} == {c.section for c in chunks}
    for chunk in chunks:
        assert chunk.doc == path.name
        assert chunk.metadata["title"] == title
        assert chunk.section == title or chunk.section in expected
        assert len(chunk.text) <= MAX_CHARS
        assert not re.search(r"^#{1,6} ", chunk.text, re.MULTILINE), "a chunk crossed a heading"
        assert chunk.chunk_id.startswith(f"{path.name}#") and len(chunk.chunk_id) == len(path.name) + 13


def test_ids_are_stable_and_unique() -> None:
    for path in CORPUS_FILES:
        first = chunk_markdown(path.name, path.read_text())
        second = chunk_markdown(path.name, path.read_text())
        assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
        assert len({c.chunk_id for c in first}) == len(first)


def test_long_sections_are_split_with_overlap_and_tables_keep_their_header() -> None:
    sentences = " ".join(f"Sentence number {i} says something about retention." for i in range(60))
    rows = "\n".join(f"| Record {i} | {i} years |" for i in range(80))
    markdown = (
        f"# Title\n\n## 1. Long\n\n{sentences}\n\n## 2. Table\n\n| Record | Period |\n|---|---|\n{rows}\n"
    )
    chunks = chunk_markdown("long.md", markdown)
    prose = [c for c in chunks if c.section == "1. Long"]
    table = [c for c in chunks if c.section == "2. Table"]
    assert len(prose) >= 2 and all(len(c.text) <= MAX_CHARS for c in chunks)
    last_sentence = prose[0].text.rsplit(". ", 1)[-1]
    first_sentence = prose[1].text.split(". ", 1)[0] + "."
    assert last_sentence in prose[1].text and first_sentence in prose[0].text, (
        "the next chunk repeats the tail"
    )
    assert len(table) >= 2 and all(c.text.startswith("| Record | Period |\n|---|---|") for c in table)


def test_heading_paths_follow_levels_and_ignore_code_fences() -> None:
    markdown = "# A\n\n# B\n\ntext b\n\n### B.1.1 deep\n\ntext\n\n```\n# not a heading\n```\n\n## C\n\nc\n"
    sections = [(c.section, c.text) for c in chunk_markdown("x.md", markdown)]
    assert sections[0] == ("B", "text b")
    assert sections[1][0] == SECTION_SEPARATOR.join(["B", "B.1.1 deep"])
    assert "# not a heading" in sections[1][1]
    assert sections[2][0] == "B > C"


def _heading_paths(markdown: str) -> set[str]:
    """Heading paths computed independently: a stack of headings below the title."""
    stack: list[tuple[int, str]] = []
    paths = set()
    for line in markdown.splitlines():
        match = re.match(r"^(#{2,6}) (.+)$", line)
        if match:
            level = len(match.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, match.group(2).strip()))
            paths.add(" > ".join(name for _, name in stack))
    return paths
