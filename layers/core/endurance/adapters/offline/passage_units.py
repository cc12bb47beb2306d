"""Retrieved chunks cut into quotable units, each with what it says and what it is about.

A unit is a sentence, a list item or a table row. Table rows are written out with their headers ("Retention
period: 30 days") so a figure keeps its meaning when quoted alone; a list item that continues a lead-in
("... is required for:" / "- an AI system classified as Tier 3; or") is quoted with it. Clause numbers and
bold run-in headings ("**12.1 Termination for convenience.**") are not quoted, but their words count as the
unit's context, as do the section heading and the document name.

Each unit also records the kinds of answer it contains (a duration, a date, an amount, a percentage, a
named entity), which is how "How long ...?" is matched with "within 30 days".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from endurance.adapters.offline.question_analysis import (
    AMOUNT,
    COUNT,
    DATE,
    DURATION,
    ENTITY,
    MONEY,
    PERCENT,
)
from endurance.domain.models import Chunk
from endurance.pipeline.text import content_terms, split_sentences

_MARKUP = re.compile(r"\*\*|__|`")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_RUN_IN_HEADING = re.compile(r"^\s*\*\*([^*]{1,120}?)\*\*\s*")
_CLAUSE_NUMBER = re.compile(r"^\(?\d+(?:\.\d+)+\)?\s+(?=[A-Z(])")
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
)
_UNIT_WORDS = (
    r"(?:working |calendar |business |clear )?(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)"
)
_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|sixty|ninety)"
)
_KIND_PATTERNS = {
    DURATION: re.compile(
        rf"\b\d[\d,.]*(?:\s|-)?{_UNIT_WORDS}\b|\b{_NUMBER_WORDS}(?:\s|-){_UNIT_WORDS}\b|"
        r"\bimmediately\b|\bwithout (?:undue )?delay\b|\bsame (?:working )?day\b",
        re.IGNORECASE,
    ),
    DATE: re.compile(
        rf"\b\d{{1,2}}\s+{_MONTH}\s+\d{{4}}\b|\b{_MONTH}\s+\d{{4}}\b|\b{_MONTH}\s+\d{{1,2}},\s+\d{{4}}\b"
    ),
    PERCENT: re.compile(r"\d\s?%|\bper ?cent\b", re.IGNORECASE),
    MONEY: re.compile(
        r"(?:\b(?:VLC|USD|EUR|GBP)|[£$€])\s?\d|\d[\d,.]*\s?(?:VLC|USD|EUR|GBP|euros?|pounds?|dollars?)\b",
        re.IGNORECASE,
    ),
}
_FIGURE = re.compile(r"(?<![\w.-])\d[\d,]*(?:\.\d+)?(?![\w-]*\d{2}\b)")
_YEARLIKE = re.compile(r"^(?:19|20)\d{2}$")
# "clause 14", "Tier 3", "Severity 1", "section 5.6" name something: the number is a label, not an amount.
_LABEL_NUMBER = re.compile(
    r"\b(?:clauses?|sections?|paragraphs?|annex|appendix|schedule|part|tier|phase|level|severity|sev|"
    r"priority|band|grade|stage)[- ]?\d+(?:\.\d+)*\b",
    re.I,
)
_ENTITY = re.compile(
    r"(?<!^)(?<![.:;!?]\s)\b(?:[A-Z][a-z]+|[A-Z]{2,}[\w-]*)(?:\s+(?:of\s+the\s+|of\s+|for\s+)?"
    r"(?:[A-Z][a-z]+|[A-Z]{2,}[\w-]*))+\b|(?<!^)(?<![.:;!?]\s)\b[A-Z]{2,}[\w-]*\b"
)


@dataclass
class Unit:
    text: str
    chunk_rank: int
    position: int
    terms: frozenset[str]
    context: frozenset[str]
    kinds: frozenset[str]
    fragment: bool
    score: float = 0.0


def units_of(rank: int, chunk: Chunk) -> list[Unit]:
    base_context = set(content_terms(chunk.section)) | set(content_terms(_doc_words(chunk.doc)))
    pieces: list[tuple[str, set[str], bool]] = []
    lead_in = ""  # a sentence ending in ":" introduces the list that follows, even after a blank line
    for block in re.split(r"\n[ \t]*\n", chunk.text):
        lines = [line for line in block.strip().split("\n") if line.strip()]
        if not lines:
            continue
        if lines[0].lstrip().startswith("|"):
            header, rows = _table_rows(lines)
            pieces.extend((row, set(content_terms(" ".join(header))), False) for row in rows)
            lead_in = ""
            continue
        for line in lines:
            context: set[str] = set()
            heading = _RUN_IN_HEADING.match(line)
            if heading:
                context |= set(content_terms(heading.group(1)))
                line = line[heading.end() :]
            is_item = bool(_LIST_MARKER.match(line))
            line = _LIST_MARKER.sub("", _MARKUP.sub("", line)).strip()
            if not line:
                continue
            if is_item and lead_in and line[:1].islower():
                # "... must be carried out for:" + "an AI system classified as Tier 3; or"
                item = re.sub(r"[;,]?\s*(?:or|and)?\s*$", "", line).rstrip(";,. ")
                pieces.append((f"{lead_in} {item}.", context | set(content_terms(lead_in)), False))
                continue
            for sentence in split_sentences(line):
                sentence = _CLAUSE_NUMBER.sub("", sentence).strip()
                if sentence:
                    pieces.append((sentence, context, _is_fragment(sentence)))
            if line.rstrip().endswith(":"):
                lead_in = _CLAUSE_NUMBER.sub("", split_sentences(line)[-1]).strip()
            elif not is_item:
                lead_in = ""
    units = []
    for position, (text, context, fragment) in enumerate(pieces):
        terms = frozenset(content_terms(text))
        if terms:
            units.append(
                Unit(text, rank, position, terms, frozenset(base_context | context), kinds_of(text), fragment)
            )
    return units


def kinds_of(text: str) -> frozenset[str]:
    kinds = {kind for kind, pattern in _KIND_PATTERNS.items() if pattern.search(text)}
    unlabelled = _LABEL_NUMBER.sub(" ", text)
    figures = [f for f in _FIGURE.findall(unlabelled) if not _YEARLIKE.match(f.replace(",", ""))]
    if figures or "VLC" in text:
        kinds.add(AMOUNT)
        if any("." not in figure for figure in figures):
            kinds.add(COUNT)
    if _ENTITY.search(text):
        kinds.add(ENTITY)
    return frozenset(kinds)


def aliases(chunks: Sequence[Chunk]) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Pairs of names the documents declare equal: "National Cyber Security Centre of Veloria (NCSC-V)",
    "Tier 3 (High Risk)". Both directions are returned."""
    pattern = re.compile(
        r"((?:[A-Z][\w-]*|\d+)(?:\s+(?:of|the|and|for|[A-Z][\w-]*|\d+)){0,6})\s+\(([A-Z][^()]{1,40})\)"
    )
    pairs = []
    for chunk in chunks:
        for long_name, short_name in pattern.findall(_MARKUP.sub("", chunk.text)):
            left, right = frozenset(content_terms(long_name)), frozenset(content_terms(short_name))
            if left and right and left != right:
                pairs += [(left, right), (right, left)]
    return pairs


def _doc_words(doc: str) -> str:
    return re.sub(r"\.\w+$", "", doc).replace("_", " ")


def _is_fragment(sentence: str) -> bool:
    """A piece that does not stand on its own: starts in lower case or leads into a list."""
    return sentence[:1].islower() or sentence.rstrip().endswith((":", "; or", "; and", ","))


def _table_rows(lines: list[str]) -> tuple[list[str], list[str]]:
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]
    is_rule = [all(set(cell) <= set("-: ") for cell in row) for row in rows]
    header = rows[0] if len(rows) > 1 and is_rule[1] else None
    body = [row for i, row in enumerate(rows) if not is_rule[i] and not (header and i == 0)]
    rendered = []
    for row in body:
        if header and len(header) == len(row):
            parts = [
                f"{_MARKUP.sub('', h)}: {_MARKUP.sub('', c)}" for h, c in zip(header, row, strict=True) if c
            ]
        else:
            parts = [_MARKUP.sub("", c) for c in row if c]
        if parts:
            rendered.append("; ".join(parts) + ".")
    return [_MARKUP.sub("", h) for h in header or []], rendered
