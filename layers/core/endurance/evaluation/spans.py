"""Sentences, clauses and word tokens with their character offsets in the original text.

Offsets matter because the engine reports unsupported spans as exact substrings of the answer, and because
checks compare what sits *near* a number in the answer with what sits near it in a context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? followed by space and an upper-case letter, digit or quote; decimals ("2.5") and
# abbreviations ("e.g.", "no.") do not end one.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9£$€])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "cf.", "vs.", "approx.", "incl.", "para.", "mr.", "mrs.",
                  "ms.", "dr.", "st.", "co.", "ltd.", "inc.")
# Clause boundaries: semicolons, dashes used as punctuation, colons, and a comma before a conjunction or a
# relative/consequence word. A bare "and" without a comma is not split: it usually joins list items.
_CLAUSE_BREAK = re.compile(
    r"\s*;\s*|\s+[\u2014\u2013]\s+|:\s+|\s*\(\s*|\s*\)\s*|"
    r",\s*(?=(?:and|but|or|so|while|whereas|although|though|which|who|where|otherwise|then|unless|"
    r"except|with|plus|as long as|provided|if|because|since|after|before|once|when|until|rising|"
    r"reduced|increasing|followed|bringing|meaning|making|including|excluding|covering|capped)\b)|"
    r"\s+(?=(?:but|whereas|although|unless|otherwise)\b)|"
    r"\s+(?=so (?:you|the|it|a|an|that|this|they|he|she|we|there|nothing|at|for|in|on)\b)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z0-9£$€][A-Za-z0-9£$€'\u2019.,/%:&+-]*[A-Za-z0-9%]|[A-Za-z0-9%]")


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int


def _strip_span(text: str, start: int, end: int) -> Span | None:
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip(" \t\n,;:\u2014\u2013-"))
    right = len(piece.rstrip(" \t\n,;:\u2014\u2013-"))
    if right <= left:
        return None
    return Span(text[start + left : start + right], start + left, start + right)


def sentences(text: str) -> list[Span]:
    """Sentences of ``text`` with offsets; newlines always end a sentence."""
    found: list[Span] = []
    for line in re.finditer(r"[^\n]+", text):
        base = line.start()
        chunk = line.group(0)
        start = 0
        for match in _SENTENCE_END.finditer(chunk):
            candidate = chunk[start : match.start()].strip().lower()
            last_word = candidate.rsplit(None, 1)[-1] if candidate else ""
            if last_word in _ABBREVIATIONS or re.search(r"\b[A-Z]\.$", chunk[start : match.start()]):
                continue
            if candidate.endswith((" no.", " nos.")) and chunk[match.end() : match.end() + 1].isdigit():
                continue  # "account no. 123"
            span = _strip_span(text, base + start, base + match.start())
            if span:
                found.append(span)
            start = match.end()
        span = _strip_span(text, base + start, base + len(chunk))
        if span:
            found.append(span)
    return found


def clauses(text: str, sentence: Span) -> list[Span]:
    """Clauses of one sentence (offsets into ``text``); pieces without a word are dropped."""
    pieces: list[Span] = []
    start = sentence.start
    body = text[sentence.start : sentence.end]
    for match in _CLAUSE_BREAK.finditer(body):
        span = _strip_span(text, start, sentence.start + match.start())
        if span and re.search(r"[A-Za-z0-9]", span.text):
            pieces.append(span)
        start = sentence.start + match.end()
    span = _strip_span(text, start, sentence.end)
    if span and re.search(r"[A-Za-z0-9]", span.text):
        pieces.append(span)
    return pieces or [sentence]


def tokens(text: str, offset: int = 0) -> list[Span]:
    """Word-like tokens with offsets (numbers keep their separators: "£1,094.40", "12:00", "09-01-28")."""
    result = []
    for match in _WORD.finditer(text):
        word = match.group(0).rstrip(".,:")
        result.append(Span(word, offset + match.start(), offset + match.start() + len(word)))
    return result
