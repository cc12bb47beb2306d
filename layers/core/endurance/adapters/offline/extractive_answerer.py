"""The offline answer generator: quotes the retrieved sentences that answer the question, with citations.

It never writes a claim of its own, so whatever it says is in the documents, figures exactly as written.
The work is choosing: each part of the question ("Within what time ..., and to whom?") gets the unit that
best matches its words (IDF-weighted, with the section heading, run-in heading and table header as
context), holds the kind of answer it asks for (a duration for "how long", an entity for "who"), mentions
the thing it asks about ("how many *registered users*"), and keeps numbered labels straight ("Severity 2",
not "Severity 1"). A comparison also takes the best unit of a second document or year.

It refuses, plainly, when the documents do not answer: no chunk names the question's year, the best unit
covers too little of the question, or no candidate mentions the thing asked about.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence

from endurance.adapters.offline.passage_units import Unit, aliases, units_of
from endurance.adapters.offline.question_analysis import (
    AMOUNT,
    COUNT,
    DATE,
    DURATION,
    MONEY,
    PERCENT,
    Question,
    QuestionPart,
    analyse,
)
from endurance.domain.models import Answer, Chunk, Route, Source
from endurance.pipeline.text import content_terms

REFUSAL_TEXT = "I could not find this in the documents."
MIN_SCORE = 0.3  # below this the best unit is beside the point: refuse rather than quote it
EXTRA_SHARE = 0.7  # a comparison's second unit must score at least this share of the first
PREMISE_SCORE = 0.5  # a multi-hop question's premise passage is quoted when it matches this well
MAX_ANSWER_CHARS = 900
PREFIX = 6  # words sharing their first six letters count as related ("respond"/"response")

_GREETING = re.compile(
    r"\b(?:hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening|day))\b", re.I
)
_THANKS = re.compile(r"\b(?:thanks?|thank you|thx|cheers|appreciate)\b", re.I)
_BYE = re.compile(r"\b(?:bye|goodbye|see you|farewell|take care|good night)\b", re.I)
_IDENTITY = re.compile(r"\b(?:who are you|what are you|what can you do|what do you do|are you)\b", re.I)
_FIGURE_KINDS = frozenset({DURATION, DATE, AMOUNT, COUNT, PERCENT, MONEY})
_FINANCIAL_YEAR = re.compile(r"\b(?:19|20)\d{2}-\d{2}\b")
_ANAPHOR = re.compile(
    r"^(?:of |in |for |from |with |under |after |before |by )?(?:this|these|that|those|such|it|its|they|"
    r"their|the same|both|each of (?:these|them))\b",
    re.I,
)
_LABEL_IN_TEXT = re.compile(
    r"\b(SEV|Severity|Tier|Phase|Level|Priority|Band|Grade|Stage|Clause|Section)[- ]?(\d+)\b", re.I
)


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
            answer = answer_from(question, chunks)
        return answer.model_copy(
            update={
                "provider": "offline",
                "model": self.name,
                "tokens_in": len(question.split()) + sum(len(c.text.split()) for c in chunks),
                "tokens_out": len(answer.text.split()),
                "latency_ms": round((time.perf_counter() - started) * 1000, 3),
            }
        )


def answer_from(question: str, chunks: Sequence[Chunk]) -> Answer:
    analysed = analyse(question)
    if not chunks or not analysed.terms:
        return refusal()
    # A year in the question ("2024-25") names which document can answer; if none has it, none can. A
    # comparison across years is answered by one passage per year, so there each passage needs one year.
    need = any if analysed.comparative and len(analysed.years) > 1 else all
    usable = [
        (rank, chunk)
        for rank, chunk in enumerate(chunks)
        if need(year in f"{chunk.doc} {chunk.section} {chunk.text}" for year in analysed.years)
    ]
    usable = _naming(usable, analysed)
    units = [unit for rank, chunk in usable for unit in units_of(rank, chunk)]
    if not units:
        return refusal()
    expansions = _expansions(analysed, [chunk for _, chunk in usable])
    # Premise words help find the passage, at half weight: the question sentence is what is asked.
    expansions |= {term: 0.5 for term in analysed.premise if term not in expansions}
    weights = _term_weights(analysed.terms | set(expansions), units)
    chosen: list[Unit] = []
    for index, part in enumerate(analysed.parts):
        ranked = _ranked(part, analysed, units, weights, expansions)
        if not ranked or ranked[0].score < MIN_SCORE:
            if index == 0:
                return refusal()
            continue
        best = ranked[0]
        if part.expects and part.expects <= _FIGURE_KINDS and not best.kinds & part.expects:
            # "How much ...?" answered by a sentence without a figure is not an answer: take the best
            # candidate that has one, if it is good enough.
            best = next((u for u in ranked if u.kinds & part.expects), best)
            if not best.kinds & part.expects or best.score < MIN_SCORE:
                if index == 0:
                    return refusal()
                continue
        if part.focus and not _has_focus(best, part):
            # Nothing good enough mentions what is asked about: that is a different question's answer.
            if index == 0:
                return refusal()
            continue
        chosen.append(best)
        if analysed.comparative and index == 0:
            second = _other_side(best, ranked, chunks)
            if second is not None:
                chosen.append(second)
    if not chosen:
        return refusal()
    if analysed.premise:
        # A multi-hop question: the passage that the premise points at is part of the answer's reasoning.
        premise = QuestionPart("", analysed.premise, frozenset(), frozenset(), False)
        ranked = _ranked(premise, analysed, units, weights, {})
        if ranked and ranked[0].score >= PREMISE_SCORE:
            chosen.append(ranked[0])
    return _compose(_with_antecedents(chosen, units), chunks)


def _naming(usable: list[tuple[int, Chunk]], question: Question) -> list[tuple[int, Chunk]]:
    """A question about a named thing ("Veloria Connect") is answered from the chunks that name it, when
    any do: a passage about something else that happens to share words ("the AI Register", "users") must
    not answer "How many registered users does Veloria Connect have?". When none name it (an abbreviation,
    a paraphrase), all stay."""
    if not question.names:
        return usable
    naming = [
        (rank, chunk)
        for rank, chunk in usable
        if all(name <= _chunk_terms(chunk) for name in question.names)
    ]
    return naming or usable


def _chunk_terms(chunk: Chunk) -> frozenset[str]:
    title = str(chunk.metadata.get("title") or "")
    return frozenset(content_terms(f"{chunk.doc.replace('_', ' ')} {title} {chunk.section} {chunk.text}"))


def _with_antecedents(chosen: list[Unit], units: list[Unit]) -> list[Unit]:
    """Each unit once; a unit that starts by pointing back ("Of this amount, ...") brings the sentence
    before it, without which it cannot be understood."""
    by_place = {(unit.chunk_rank, unit.position): unit for unit in units}
    result: dict[tuple[int, int], Unit] = {}
    for unit in chosen:
        place = (unit.chunk_rank, unit.position)
        if _ANAPHOR.match(unit.text):
            before = by_place.get((unit.chunk_rank, unit.position - 1))
            if before is not None:
                result.setdefault((before.chunk_rank, before.position), before)
        result.setdefault(place, unit)
    return list(result.values())


def _ranked(
    part: QuestionPart,
    question: Question,
    units: list[Unit],
    weights: dict[str, float],
    expansions: dict[str, float],
) -> list[Unit]:
    terms = set(part.terms) | {term for term in expansions if term not in part.terms}
    total = sum(weights[t] * expansions.get(t, 1.0) for t in terms) or 1.0
    scored = []
    for unit in units:
        prefixes = {t[:PREFIX] for t in unit.terms if len(t) >= PREFIX}
        context_prefixes = {t[:PREFIX] for t in unit.context if len(t) >= PREFIX}
        matched = 0.0
        for term in terms:
            weight = weights[term] * expansions.get(term, 1.0)
            if term in unit.terms:
                matched += weight
            elif len(term) >= PREFIX and term[:PREFIX] in prefixes:
                matched += 0.8 * weight
            elif term in unit.context or (len(term) >= PREFIX and term[:PREFIX] in context_prefixes):
                matched += 0.5 * weight
        score = matched / total
        if part.expects:
            score += 0.25 if unit.kinds & part.expects else 0.0
        if part.focus:
            score += 0.15 if _has_focus(unit, part) else -0.2
        score += _label_fit(unit, question) + _year_fit(unit, question)
        if unit.fragment:
            score -= 0.1
        if len(unit.text) > 450:
            score -= 0.05
        score += 0.04 / (1 + unit.chunk_rank)
        scored.append((score, unit))
    scored.sort(key=lambda pair: (-pair[0], pair[1].chunk_rank, pair[1].position))
    ranked = []
    for score, unit in scored:
        copy = Unit(**{**unit.__dict__, "score": score})
        ranked.append(copy)
    return ranked


def _has_focus(unit: Unit, part: QuestionPart) -> bool:
    words = unit.terms | unit.context

    def present(term: str) -> bool:
        return term in words or (len(term) >= PREFIX and any(w.startswith(term[:PREFIX]) for w in words))

    found = [present(term) for term in part.focus]
    return all(found) if part.focus_all else any(found)


def _label_fit(unit: Unit, question: Question) -> float:
    """Rewards the question's numbered labels; penalises the same label with another number."""
    if not question.labels:
        return 0.0
    found = {_label(name, number) for name, number in _LABEL_IN_TEXT.findall(unit.text)}
    fit = 0.0
    for label, number in question.labels:
        same_label = {n for name, n in found if name == label}
        if number in same_label:
            fit += 0.1
        elif same_label:
            fit -= 0.4
    return fit


def _year_fit(unit: Unit, question: Question) -> float:
    """A unit about another financial year than the one asked about answers a different question."""
    asked = {year for year in question.years if "-" in year}
    if not asked:
        return 0.0
    # Only financial years ("2022-23") are compared: "June 2023" is a date inside 2023-24, not another year.
    stated = set(_FINANCIAL_YEAR.findall(unit.text))
    if stated and not stated & asked:
        return -0.3
    return 0.0


def _label(name: str, number: str) -> tuple[str, str]:
    lowered = name.lower()
    return ("severity" if lowered == "sev" else lowered), number


def _other_side(best: Unit, ranked: list[Unit], chunks: Sequence[Chunk]) -> Unit | None:
    """For a comparison: the best unit from another document (or, in the same document, another chunk)."""
    doc = chunks[best.chunk_rank].doc
    for unit in ranked[1:]:
        if unit.score < max(MIN_SCORE, EXTRA_SHARE * best.score):
            return None
        if chunks[unit.chunk_rank].doc != doc and not (unit.terms <= best.terms):
            return unit
    return None


def _expansions(question: Question, chunks: Sequence[Chunk]) -> dict[str, float]:
    """Names the documents declare equal to one in the question ("High Risk" = "Tier 3"), weighted 0.7."""
    extra: dict[str, float] = {}
    for names, other in aliases(chunks):
        if len(names & question.terms) >= max(1, math.ceil(0.6 * len(names))):
            for term in other - question.terms:
                extra[term] = 0.7
    return extra


def _compose(chosen: list[Unit], chunks: Sequence[Chunk]) -> Answer:
    chosen = sorted(chosen, key=lambda u: (u.chunk_rank, u.position))
    sources: list[Source] = []
    number_of: dict[int, int] = {}
    sentences: list[str] = []
    length = 0
    for unit in chosen:
        if sentences and length + len(unit.text) > MAX_ANSWER_CHARS:
            continue
        if unit.chunk_rank not in number_of:
            chunk = chunks[unit.chunk_rank]
            sources.append(
                Source(doc=chunk.doc, section=chunk.section, chunk_id=chunk.chunk_id, score=chunk.score)
            )
            number_of[unit.chunk_rank] = len(sources)
        text = unit.text[0].upper() + unit.text[1:]
        sentences.append(_cite(text, number_of[unit.chunk_rank]))
        length += len(unit.text)
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


def _term_weights(question_terms: set[str] | frozenset[str], units: list[Unit]) -> dict[str, float]:
    """IDF over the candidate units: a term in every passage ("ministry") tells little."""
    n = len(units)
    weights = {}
    for term in question_terms:
        df = sum(1 for unit in units if term in unit.terms)
        weights[term] = math.log(1.0 + (n + 1) / (df + 0.5))
    return weights
