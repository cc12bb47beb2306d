"""The offline answer generator: quotes the retrieved sentences that best answer the question.

It never writes a claim of its own, so whatever it says is in the documents; the risk it manages instead is
quoting something beside the point, hence the refusal when the best sentence covers too little of the
question. Tables are read row by row with their headers ("Retention period: 30 days"), so a figure keeps its
meaning when quoted alone.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from endurance.domain.models import Answer, Chunk, Route, Source
from endurance.pipeline.text import content_terms, split_sentences

REFUSAL_TEXT = "I could not find this in the documents."
MIN_COVERAGE = 0.25
# A further sentence must stand on its own: quoting weakly related text makes an answer worse.
MIN_EXTRA_COVERAGE = 0.35
MAX_UNITS = 3
MAX_ANSWER_CHARS = 900

_YEAR = re.compile(r"\b(?:19|20)\d{2}(?:-\d{2})?\b")
_NUMERIC_QUESTION = re.compile(
    r"\b(?:how (?:much|many|long|fast|quickly|soon|often|far)|when|what date|which (?:date|month|year)|"
    r"what (?:is|was) the (?:total|maximum|minimum|limit|deadline|rate|amount|cost|value|budget)|by when|"
    r"within what)\b",
    re.IGNORECASE,
)
_MARKUP = re.compile(r"\*\*|__|`")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_GREETING = re.compile(
    r"\b(?:hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening|day))\b", re.I
)
_THANKS = re.compile(r"\b(?:thanks?|thank you|thx|cheers|appreciate)\b", re.I)
_BYE = re.compile(r"\b(?:bye|goodbye|see you|farewell|take care|good night)\b", re.I)
_IDENTITY = re.compile(r"\b(?:who are you|what are you|what can you do|what do you do|are you)\b", re.I)


@dataclass
class _Unit:
    """A quotable piece of a chunk: a sentence, a list item or a table row."""

    text: str
    chunk_rank: int
    position: int
    terms: frozenset[str]
    has_number: bool
    score: float = 0.0


class ExtractiveAnswerer:
    """The offline ``AnswerGenerator``."""

    name = "extractive"

    def generate(self, question: str, chunks: Sequence[Chunk], *, route: Route) -> Answer:
        started = time.perf_counter()
        if route is Route.DIRECT:
            answer = Answer(text=small_talk_reply(question))
        elif route is Route.BLOCKED:
            answer = Answer(text="I can't help with that request.", refusal=True)
        elif route is Route.HUMAN_REVIEW:
            answer = Answer(text="This needs a person: a member of the team will look at your request.")
        else:
            answer = self._answer_from(question, chunks)
        return answer.model_copy(
            update={
                "provider": "offline",
                "model": self.name,
                "tokens_in": len(question.split()) + sum(len(c.text.split()) for c in chunks),
                "tokens_out": len(answer.text.split()),
                "latency_ms": round((time.perf_counter() - started) * 1000, 3),
            }
        )

    def _answer_from(self, question: str, chunks: Sequence[Chunk]) -> Answer:
        question_terms = set(content_terms(question))
        if not chunks or not question_terms:
            return refusal()
        # A year in the question ("2024-25") names which document can answer; if none has it, none can.
        years = set(_YEAR.findall(question))
        usable = [
            (rank, chunk)
            for rank, chunk in enumerate(chunks)
            if all(year in f"{chunk.doc} {chunk.section} {chunk.text}" for year in years)
        ]
        units = [unit for rank, chunk in usable for unit in _units(rank, chunk)]
        if not units:
            return refusal()
        weights = _term_weights(question_terms, units)
        total = sum(weights.values())
        numeric = bool(_NUMERIC_QUESTION.search(question))
        section_terms = {rank: set(content_terms(chunk.section)) for rank, chunk in usable}
        for unit in units:
            matched = sum(weights[t] for t in question_terms & unit.terms)
            from_section = sum(
                weights[t] for t in (question_terms & section_terms[unit.chunk_rank]) - unit.terms
            )
            unit.score = (matched + 0.5 * from_section) / total
            # Figures answer "how long/how much" questions, but only in a sentence that is on topic.
            if numeric and unit.has_number and unit.score >= 0.25:
                unit.score += 0.1
            unit.score += 0.03 / (1 + unit.chunk_rank)
        ranked = sorted(units, key=lambda u: (-u.score, u.chunk_rank, u.position))
        best = ranked[0]
        if best.score < MIN_COVERAGE:
            return refusal()
        chosen = [best]
        covered = set(best.terms & question_terms)
        length = len(best.text)
        for unit in ranked[1:]:
            if len(chosen) >= MAX_UNITS or unit.score < max(0.6 * best.score, MIN_EXTRA_COVERAGE):
                break
            adds_terms = bool((unit.terms & question_terms) - covered)
            if (adds_terms or unit.score >= 0.85 * best.score) and length + len(
                unit.text
            ) <= MAX_ANSWER_CHARS:
                chosen.append(unit)
                covered |= unit.terms & question_terms
                length += len(unit.text)
        chosen.sort(key=lambda u: (u.chunk_rank, u.position))
        sources: list[Source] = []
        number_of: dict[int, int] = {}
        sentences = []
        for unit in chosen:
            if unit.chunk_rank not in number_of:
                chunk = chunks[unit.chunk_rank]
                sources.append(
                    Source(doc=chunk.doc, section=chunk.section, chunk_id=chunk.chunk_id, score=chunk.score)
                )
                number_of[unit.chunk_rank] = len(sources)
            sentences.append(_cite(unit.text, number_of[unit.chunk_rank]))
        return Answer(text=" ".join(sentences), sources=sources)


def refusal() -> Answer:
    return Answer(text=REFUSAL_TEXT, refusal=True)


def small_talk_reply(message: str) -> str:
    if _BYE.search(message):
        return "Goodbye! Come back any time you have a question about the documents."
    if _THANKS.search(message):
        return "You're welcome! Is there anything else you would like to know?"
    if _IDENTITY.search(message):
        return (
            "I'm Endurance, an assistant that answers questions from the Ministry's documents, "
            "with citations to the passages I used."
        )
    if _GREETING.search(message):
        return "Hello! Ask me anything about the documents and I'll answer with sources."
    return "I'm here to help with questions about the documents. What would you like to know?"


def _cite(text: str, number: int) -> str:
    text = text.rstrip()
    if text.endswith((".", "!", "?")):
        return f"{text[:-1]} [{number}]{text[-1]}"
    return f"{text} [{number}]."


def _term_weights(question_terms: set[str], units: list[_Unit]) -> dict[str, float]:
    """IDF over the candidate units: a term in every passage ("ministry") tells little."""
    n = len(units)
    weights = {}
    for term in question_terms:
        df = sum(1 for unit in units if term in unit.terms)
        weights[term] = math.log(1.0 + (n + 1) / (df + 0.5))
    return weights


def _units(rank: int, chunk: Chunk) -> list[_Unit]:
    texts: list[str] = []
    for block in re.split(r"\n[ \t]*\n", chunk.text):
        lines = [line for line in block.strip().split("\n") if line.strip()]
        if not lines:
            continue
        if lines[0].lstrip().startswith("|"):
            texts.extend(_table_rows(lines))
            continue
        for line in lines:
            line = _LIST_MARKER.sub("", _MARKUP.sub("", line)).strip()
            texts.extend(split_sentences(line))
    units = []
    for position, text in enumerate(texts):
        terms = frozenset(content_terms(text))
        if terms:
            has_number = any(t[:1].isdigit() for t in terms)
            units.append(_Unit(text, rank, position, terms, has_number))
    return units


def _table_rows(lines: list[str]) -> list[str]:
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
    return rendered
