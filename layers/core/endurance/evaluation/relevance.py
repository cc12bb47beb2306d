"""Answer relevance, context relevance (per chunk), context precision and context utilisation.

Relevance combines two signals, both explainable:

* *coverage*: the IDF-weighted share of the question's content words found (stemmed, synonyms mapped);
* *answer type*: what the question asks for ("how much" -> an amount of money, "when" -> a date or time,
  "how many" -> a count, "phone number" -> a phone number, ...) must be present.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from endurance.evaluation import quantities
from endurance.evaluation.alignment import Passages, coverage
from endurance.evaluation.lexicon import content_words
from endurance.evaluation.pii import find_pii
from endurance.evaluation.spans import tokens
from endurance.pipeline.text import word_list

_WH_WORDS = re.compile(r"^\s*(?:so\s+|and\s+|but\s+)?(\w+)(?:\s+(\w+))?(?:\s+(\w+))?", re.I)
_FREQUENCY = re.compile(
    r"\b(?:every|each|per|daily|weekly|fortnightly|monthly|quarterly|annually|yearly|once|twice|times a|"
    r"in advance|in arrears)\b", re.I,
)
_TEMPORAL_WORDS = re.compile(
    r"\b(?:today|tomorrow|yesterday|now|immediately|weekday|weekend|morning|afternoon|evening|night|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|before|after|until|once|when|during|"
    r"age|from|by)\b", re.I,
)


@dataclass(frozen=True)
class Expectation:
    """What kind of answer a question asks for; ``None`` when any answer shape will do."""

    kind: str | None


def expected_answer(question: str) -> Expectation:
    lowered = question.lower()
    if re.search(r"\b(?:phone|telephone|mobile|contact) (?:number|line)\b", lowered):
        return Expectation("phone")
    if re.search(r"\bemail(?: address)?\b", lowered) and re.search(r"\bwhat(?:'s| is| are)\b", lowered):
        return Expectation("email")
    match = _WH_WORDS.search(lowered.replace("\u2019", "'"))
    words = [w for w in (match.groups() if match else ()) if w]
    first = words[0] if words else ""
    second = words[1] if len(words) > 1 else ""
    if first == "how" and second == "much":
        return Expectation("money_or_amount")
    if first == "how" and second == "many":
        return Expectation("count")
    if first == "how" and second in ("long", "quickly", "soon", "fast", "early", "late"):
        return Expectation("duration")
    if first == "how" and second == "often":
        return Expectation("frequency")
    if first in ("when", "until") or re.search(r"\bwhat (?:time|date|day|year|month)\b", lowered):
        return Expectation("when")
    if re.search(r"\b(?:what|which) (?:proportion|percentage|share|rate)\b", lowered):
        return Expectation("rate")
    if re.search(r"\bwhat(?:'s| is| are| will)? (?:the )?(?:fee|cost|price|charge|penalty|fine)\b", lowered):
        return Expectation("money_or_amount")
    return Expectation(None)


def satisfies(expectation: Expectation, text: str) -> bool:
    """Whether ``text`` contains the kind of thing the question asks for."""
    kind = expectation.kind
    if kind is None:
        return True
    found = quantities.extract(text)
    dims = {q.dim for q in found}
    if kind == "phone":
        return any(p["type"] == "phone" for p in find_pii(text))
    if kind == "email":
        return any(p["type"] == "email" for p in find_pii(text))
    if kind == "money_or_amount":
        return bool(dims & {"money", "ratio"}) or any(d.startswith("unit:") for d in dims) or \
            bool(re.search(r"\b(?:free|no charge|nothing|no fee|no extra cost)\b", text, re.I))
    if kind == "count":
        return "count" in dims or any(d.startswith("unit:") for d in dims) or \
            bool(re.search(r"\b(?:none|no)\b", text, re.I))
    if kind == "duration":
        return bool(dims & {"duration", "workduration", "date", "time", "month"}) or \
            bool(re.search(r"\b(?:immediately|same day|next day|straight away)\b", text, re.I))
    if kind == "frequency":
        return bool(_FREQUENCY.search(text))
    if kind == "when":
        return bool(dims & {"date", "time", "month", "year"}) or bool(
            re.search(r"\b(?:age|aged)\s+\d+|\b(?:after|before|within|from|until|by)\b.*\d", text, re.I))
    if kind == "rate":
        return "ratio" in dims
    return True


def question_terms(question: str) -> frozenset[str]:
    words = [w.text for w in tokens(question)]
    return frozenset(content_words(words)) - _QUESTION_FILLER


_QUESTION_FILLER = frozenset(content_words(sorted(word_list(
    "want know tell find wonder happen happens ask asking possible okay ok please thanks"))))


def context_relevance(question: str, passages: Passages) -> list[float]:
    """Per context: coverage of the question by the context, halved when it lacks the kind of answer asked."""
    terms = question_terms(question)
    expectation = expected_answer(question)
    scores = []
    for index, context in enumerate(passages.contexts):
        units = [u for u in passages.sentences if u.source == index]
        chunk_terms = frozenset().union(*(u.term_set for u in units)) if units else frozenset()
        whole = coverage(terms, chunk_terms, passages) if terms else 0.0
        best_sentence = max((coverage(terms, u.term_set, passages) for u in units), default=0.0)
        score = 0.6 * whole + 0.4 * best_sentence
        if not satisfies(expectation, context):
            score *= 0.5
        scores.append(round(score, 4))
    return scores


def answer_relevance(question: str, answer: str, passages: Passages, *, refusal: bool) -> float:
    terms = question_terms(question)
    if not answer.strip():
        return 0.0
    answer_terms = frozenset(content_words([w.text for w in tokens(answer)]))
    covered = coverage(terms, answer_terms, passages) if terms else 1.0
    if refusal:
        return round(covered, 4)
    typed = 1.0 if satisfies(expected_answer(question), answer) else 0.0
    return round(0.6 * covered + 0.4 * typed, 4)


def context_precision(relevance: Sequence[float], threshold: float) -> float | None:
    """Average precision of the ranking: relevant contexts (score >= threshold) should come first."""
    if not relevance:
        return None
    hits = 0
    total = 0.0
    for rank, score in enumerate(relevance, start=1):
        if score >= threshold:
            hits += 1
            total += hits / rank
    return round(total / hits, 4) if hits else 0.0
