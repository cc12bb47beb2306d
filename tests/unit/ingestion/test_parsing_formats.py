from __future__ import annotations

import sys

import pytest
from endurance.ingestion.chunking import chunk_markdown
from endurance.ingestion.parsing import UnsupportedDocumentError, detect_content_type, to_markdown

HTML = b"""<html><head><title>ignored</title><style>p {color: red}</style></head><body>
<h1>Travel Guide</h1><p>Intro text.</p>
<h2>1. Hotels</h2><p>Book early.</p><ul><li>Astrava: VLC 180</li><li>Elsewhere: VLC 120</li></ul>
<h3>1.1 Breakfast</h3><table><tr><th>City</th><th>Rate</th></tr>
<tr><td>Astrava</td><td>VLC 15</td></tr></table>
<script>alert("x")</script></body></html>"""


def test_html_keeps_headings_lists_and_tables() -> None:
    markdown = to_markdown("guide.html", HTML)
    assert "alert" not in markdown and "color" not in markdown and "ignored" not in markdown
    chunks = chunk_markdown("guide.html", markdown)
    by_section = {c.section: c.text for c in chunks}
    assert by_section["Travel Guide"] == "Intro text."
    assert "- Astrava: VLC 180" in by_section["1. Hotels"]
    assert by_section["1. Hotels > 1.1 Breakfast"] == "| City | Rate |\n|---|---|\n| Astrava | VLC 15 |"


def test_plain_text_and_encodings() -> None:
    assert to_markdown("notes.txt", "Caf\u00e9 rules.".encode()) == "Caf\u00e9 rules."
    assert to_markdown("old.txt", "Caf\u00e9".encode("cp1252")) == "Caf\u00e9"
    with pytest.raises(UnsupportedDocumentError, match="binary"):
        to_markdown("blob.txt", b"\x00\x01\xff\xfe" * 10)


def test_content_type_detection() -> None:
    assert detect_content_type("a.MD") == "text/markdown"
    assert detect_content_type("a.bin", "text/html; charset=utf-8") == "text/html"
    assert detect_content_type("a.htm", "application/octet-stream") == "text/html"
    with pytest.raises(UnsupportedDocumentError, match="unsupported document type"):
        detect_content_type("slides.pptx")


def test_pdf_without_pypdf_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry makes `import pypdf` raise ImportError, as on a machine without the package.
    monkeypatch.setitem(sys.modules, "pypdf", None)
    with pytest.raises(UnsupportedDocumentError, match="needs the 'pypdf' package"):
        to_markdown("report.pdf", b"%PDF-1.4 ...")
