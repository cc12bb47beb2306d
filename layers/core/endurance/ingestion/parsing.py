"""Turn an uploaded document into Markdown-shaped text, so one chunker serves every format.

Markdown passes through; plain text becomes one untitled section; HTML keeps its headings as ``#`` lines,
its paragraphs, list items and table rows; PDF is read with ``pypdf`` when that package is installed.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import PurePath

from endurance.domain.errors import PermanentError

SUPPORTED_SUFFIXES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".text": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
}


class UnsupportedDocumentError(PermanentError):
    """This document cannot be read (format, encoding or a missing optional parser)."""


def detect_content_type(doc: str, content_type: str | None = None) -> str:
    """The document's media type: an explicit, specific content type wins, then the file suffix."""
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared and declared not in ("application/octet-stream", "binary/octet-stream"):
        if declared in ("text/x-markdown", "text/md"):
            return "text/markdown"
        return declared
    suffix = PurePath(doc).suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return SUPPORTED_SUFFIXES[suffix]
    raise UnsupportedDocumentError(
        f"{doc}: unsupported document type (supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})"
    )


def to_markdown(doc: str, content: bytes, content_type: str | None = None) -> str:
    """Markdown text of the document. Raises ``UnsupportedDocumentError`` when it cannot be read."""
    kind = detect_content_type(doc, content_type)
    if kind == "application/pdf":
        return _pdf_text(doc, content)
    text = _decode(doc, content)
    if kind == "text/markdown":
        return text
    if kind == "text/html":
        return html_to_markdown(text)
    if kind.startswith("text/"):
        return text
    raise UnsupportedDocumentError(f"{doc}: unsupported content type {kind}")


def _decode(doc: str, content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in content[:4096]:
        raise UnsupportedDocumentError(f"{doc}: looks like a binary file, not text")
    # cp1252 decodes nearly anything; documents from older office tools often are cp1252.
    return content.decode("cp1252", errors="replace")


def _pdf_text(doc: str, content: bytes) -> str:
    try:
        from pypdf import PdfReader  # optional: only PDF ingestion needs it
    except ImportError as error:
        raise UnsupportedDocumentError(
            f"{doc}: PDF support needs the 'pypdf' package, which is not installed"
        ) from error
    try:
        reader = PdfReader(io.BytesIO(content))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as error:  # pypdf raises many unrelated types for broken files
        raise UnsupportedDocumentError(f"{doc}: cannot read the PDF: {error}") from error
    return pdf_headings("\n\n".join(page.strip() for page in pages if page.strip()))


# A short line that starts with a section number ("2.", "2.1", "10.3.2") and reads like a title.
_NUMBERED_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?[ \t]+([A-Z][^\n]{0,80})$")


def pdf_headings(text: str) -> str:
    """PDF text has no heading markup: numbered title lines ("2.1 Financial Year") become Markdown headings
    (level = depth of the number), so a PDF's chunks get heading paths like a Markdown document's."""
    lines = []
    for line in text.split("\n"):
        match = _NUMBERED_HEADING.match(line.strip())
        title = match.group(2).rstrip() if match else ""
        if match and not title.endswith((".", ",", ";", ":")) and len(title.split()) <= 12:
            level = min(6, match.group(1).count(".") + 2)
            lines.extend(["", "#" * level + " " + line.strip(), ""])
        else:
            lines.append(line)
    return "\n".join(lines)


_BLOCK_TAGS = {"p", "div", "section", "article", "br", "blockquote", "pre", "ul", "ol", "table", "main"}
_SKIPPED_TAGS = {"script", "style", "noscript", "template", "head", "svg", "nav"}


class _HtmlToMarkdown(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.prefix = ""
        self.skip_depth = 0
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.rows_in_table = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth += 1
        elif self.skip_depth:
            return
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._flush()
            self.prefix = "#" * int(tag[1]) + " "
        elif tag == "li":
            self._flush()
            self.prefix = "- "
        elif tag == "table":
            self._flush()
            self.rows_in_table = 0
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif self.skip_depth:
            return
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()).replace("|", "/"))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self._flush()
            self.lines.append("| " + " | ".join(self.row) + " |")
            if self.rows_in_table == 0:
                self.lines.append("|" + "---|" * len(self.row))
            self.rows_in_table += 1
            self.row = None
        elif tag == "table":
            self.lines.append("")
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6", "li") or tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.cell is not None:
            self.cell.append(data)
        else:
            self.current.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self.current).split())
        if text:
            if self.prefix.startswith("#"):
                self.lines.extend(["", self.prefix + text, ""])
            else:
                self.lines.extend([self.prefix + text, ""] if not self.prefix else [self.prefix + text])
        self.current = []
        self.prefix = ""

    def markdown(self) -> str:
        self._flush()
        return "\n".join(self.lines).strip() + "\n"


def html_to_markdown(html: str) -> str:
    parser = _HtmlToMarkdown()
    parser.feed(html)
    parser.close()
    return parser.markdown()
