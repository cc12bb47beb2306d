"""Structure-aware Markdown chunking: chunks never cross a section, and carry the full heading path.

``section`` is the heading path, outermost first, headings as written without the ``#``'s, joined with
" > ". A document with a single leading H1 treats it as the title (kept in ``metadata["title"]``, not in the
path), so sections read "2. Budget Context > 2.1 Financial Year and Reporting Basis". Chunk ids hash the
section and text, so re-ingesting an unchanged document yields the same ids.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from endurance.domain.models import Chunk
from endurance.pipeline.text import split_sentences

TARGET_CHARS = 1000
MAX_CHARS = 1200
OVERLAP_CHARS = 200
SECTION_SEPARATOR = " > "

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^(```|~~~)")


@dataclass(frozen=True)
class Section:
    path: tuple[str, ...]
    body: str

    @property
    def name(self) -> str:
        return SECTION_SEPARATOR.join(self.path)


def chunk_id(doc: str, section: str, text: str) -> str:
    return f"{doc}#{hashlib.sha1((section + text).encode()).hexdigest()[:12]}"


def split_sections(markdown: str) -> tuple[str, list[Section]]:
    """(title, sections in document order). Headings inside fenced code blocks are text."""
    lines = markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    headings: list[tuple[int, int, str]] = []  # (line number, level, text)
    in_fence = False
    for number, line in enumerate(lines):
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
            continue
        match = None if in_fence else _HEADING.match(line)
        if match:
            headings.append((number, len(match.group(1)), match.group(2).strip()))
    h1s = [h for h in headings if h[1] == 1]
    title = ""
    if len(h1s) == 1 and headings[0] is h1s[0]:
        title = h1s[0][2]
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    start = 0
    current: tuple[str, ...] = ()
    for number, level, text in [*headings, (len(lines), 0, "")]:
        body = "\n".join(lines[start:number]).strip()
        if body:
            sections.append(Section(current or ((title,) if title else ()), body))
        if level == 0:
            break
        if title and level == 1 and text == title and not stack:
            current, start = (), number + 1
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, text))
        current = tuple(name for _, name in stack)
        start = number + 1
    return title, sections


def chunk_markdown(
    doc: str,
    markdown: str,
    *,
    target_chars: int = TARGET_CHARS,
    max_chars: int = MAX_CHARS,
    overlap_chars: int = OVERLAP_CHARS,
) -> list[Chunk]:
    title, sections = split_sections(markdown)
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for section in sections:
        for text in _pack(
            _blocks(section.body, max_chars, overlap_chars), target_chars, max_chars, overlap_chars
        ):
            cid = chunk_id(doc, section.name, text)
            if cid in seen:
                continue
            seen.add(cid)
            metadata = {"title": title, "position": len(chunks)}
            chunks.append(Chunk(chunk_id=cid, doc=doc, section=section.name, text=text, metadata=metadata))
    return chunks


def _blocks(body: str, max_chars: int, overlap_chars: int) -> list[str]:
    """Paragraphs, lists and tables (split at blank lines), each cut to fit ``max_chars``."""
    blocks: list[str] = []
    for raw in re.split(r"\n[ \t]*\n", body):
        block = raw.strip()
        if not block:
            continue
        if len(block) <= max_chars:
            blocks.append(block)
        elif _is_table(block):
            blocks.extend(_split_table(block, max_chars))
        else:
            blocks.extend(_split_prose(block, max_chars, overlap_chars))
    return blocks


def _is_table(block: str) -> bool:
    return block.lstrip().startswith("|")


def _split_table(block: str, max_chars: int) -> list[str]:
    """Cut a long table between rows, repeating its header so every piece reads on its own."""
    lines = block.split("\n")
    header = lines[:2] if len(lines) > 1 and set(lines[1].replace("|", "").strip()) <= set("-: ") else []
    rows = lines[len(header) :]
    pieces: list[str] = []
    current: list[str] = []
    for row in rows:
        candidate = "\n".join([*header, *current, row])
        if current and len(candidate) > max_chars:
            pieces.append("\n".join([*header, *current]))
            current = []
        current.append(row)
    if current:
        pieces.append("\n".join([*header, *current]))
    return [
        p for piece in pieces for p in ([piece] if len(piece) <= max_chars else _hard_split(piece, max_chars))
    ]


def _split_prose(block: str, max_chars: int, overlap_chars: int) -> list[str]:
    """Cut a long paragraph between sentences; each piece starts with the previous piece's last sentences."""
    pieces: list[str] = []
    current: list[str] = []
    for sentence in split_sentences(block):
        for part in [sentence] if len(sentence) <= max_chars else _hard_split(sentence, max_chars):
            if current and len(" ".join([*current, part])) > max_chars:
                pieces.append(" ".join(current))
                tail = _overlap_tail(pieces[-1], overlap_chars)
                current = [tail] if tail and len(tail) + 1 + len(part) <= max_chars else []
            current.append(part)
    if current:
        pieces.append(" ".join(current))
    return pieces


def _hard_split(text: str, max_chars: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > max_chars:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:max_chars])
            word = word[max_chars:]
        if current and len(current) + 1 + len(word) > max_chars:
            pieces.append(current)
            current = ""
        current = f"{current} {word}" if current else word
    if current:
        pieces.append(current)
    return pieces


def _pack(blocks: list[str], target_chars: int, max_chars: int, overlap_chars: int) -> list[str]:
    """Greedily join blocks up to ``target_chars`` (never past ``max_chars``), overlapping prose."""
    chunks: list[str] = []
    current = ""
    for block in blocks:
        if not current:
            current = block
            continue
        if len(current) < target_chars and len(current) + 2 + len(block) <= max_chars:
            current = f"{current}\n\n{block}"
            continue
        chunks.append(current)
        tail = _overlap_tail(current, overlap_chars)
        fits = tail and len(tail) + 2 + len(block) <= max_chars and not block.startswith(tail)
        current = f"{tail}\n\n{block}" if fits else block
    if current:
        chunks.append(current)
    return chunks


def _overlap_tail(text: str, overlap_chars: int) -> str:
    """The last sentences of a chunk (up to ``overlap_chars``), so a fact cut at a boundary survives."""
    last_block = text.rsplit("\n\n", 1)[-1]
    if overlap_chars <= 0 or _is_table(last_block):
        return ""
    tail: list[str] = []
    size = 0
    for sentence in reversed(split_sentences(last_block)):
        if size + len(sentence) > overlap_chars:
            break
        tail.insert(0, sentence)
        size += len(sentence) + 1
    return " ".join(tail)
