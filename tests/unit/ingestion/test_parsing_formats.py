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


def _pdf(lines: list[str]) -> bytes:
    """A minimal valid PDF (one page, Helvetica, one text line per entry) with a correct xref table."""
    text = (
        "BT /F1 11 Tf 72 760 Td 14 TL "
        + " ".join(
            "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '" for line in lines
        )
        + " ET"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text.encode("latin-1")),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_pdf_text_and_numbered_headings() -> None:
    pdf = _pdf(
        [
            "1. Scope",
            "This policy applies to all staff.",
            "2. Retention",
            "2.1 Audit Logs",
            "Audit logs are kept for 13 months.",
        ]
    )
    markdown = to_markdown("policy.pdf", pdf)
    chunks = chunk_markdown("policy.pdf", markdown)
    by_section = {c.section: c.text for c in chunks}
    assert by_section["1. Scope"] == "This policy applies to all staff."
    assert by_section["2. Retention > 2.1 Audit Logs"] == "Audit logs are kept for 13 months."


def test_a_broken_pdf_is_a_clear_error() -> None:
    with pytest.raises(UnsupportedDocumentError, match="cannot read the PDF"):
        to_markdown("broken.pdf", b"%PDF-1.4 this is not a pdf")
