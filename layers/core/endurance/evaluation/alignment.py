"""Analysed text units and the alignment of an answer clause to the context sentences that best support it.

Similarity is *coverage*: the IDF-weighted share of the clause's content words that a context sentence
contains, after stemming and synonym mapping. Words the contexts never use get the highest weight, so an
answer that adds a new fact ("... and text you the picture") loses coverage where it matters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from endurance.evaluation import quantities
from endurance.evaluation.lexicon import BOUND_PHRASES, NEGATORS, PRIVATIVE_STEMS, content_words, plain_stem
from endurance.evaluation.spans import Span, clauses, sentences, tokens


@dataclass
class Unit:
    """A sentence or clause: its words (canonical, with token positions) and its quantities."""

    text: str
    start: int  # offset in its source text (the answer, or one context)
    end: int
    source: int  # -1 for the answer, else the context index
    words: list[Span]
    terms: list[tuple[str, int]]  # (canonical content word, token index)
    quantities: list[quantities.Quantity]
    negated: bool
    term_set: frozenset[str] = field(default_factory=frozenset)
    prefixes: frozenset[str] = field(default_factory=frozenset)
    slots: list[tuple[quantities.Quantity, dict[str, float]]] | None = None  # filled on first use

    def __post_init__(self) -> None:
        self.term_set = frozenset(term for term, _ in self.terms)
        self.prefixes = prefixes_of(self.term_set)

    def quantity_slots(self) -> list[tuple[quantities.Quantity, dict[str, float]]]:
        """Each quantity of this unit with the words around it (cached: contexts are reused per clause)."""
        if self.slots is None:
            self.slots = []
            for quantity in self.quantities:
                where = self.token_index(quantity.start)
                skip = (where, self.token_index(quantity.end))
                self.slots.append((quantity, window_terms(self, where, skip)))
        return self.slots

    def token_index(self, offset: int) -> int:
        """Index of the token at or after a character offset (offsets of the source text)."""
        for index, word in enumerate(self.words):
            if word.end > offset:
                return index
        return len(self.words)


def analyse(text: str, span: Span, source: int, all_quantities: Sequence[quantities.Quantity]) -> Unit:
    words = tokens(span.text, span.start)
    terms: list[tuple[str, int]] = []
    for index, word in enumerate(words):
        for term in content_words([word.text]):
            terms.append((term, index))
    inside = [q for q in all_quantities if q.start >= span.start and q.end <= span.end]
    return Unit(span.text, span.start, span.end, source, words, terms, inside, is_negated(span.text))


def is_negated(text: str) -> bool:
    """Odd number of negations / privative words ("not", "no", "prohibited", "excluded", ...)."""
    cleaned = BOUND_PHRASES.sub(" ", text.lower().replace("\u2019", "'"))
    count = 0
    for word in re.findall(r"[a-z][a-z'-]*", cleaned):
        if word in NEGATORS or word.endswith("n't") or plain_stem(word) in PRIVATIVE_STEMS:
            count += 1
    return count % 2 == 1


@dataclass
class Passages:
    """The contexts of one request, analysed once: sentences, clauses, IDF, names."""

    contexts: list[str]
    sentences: list[Unit]
    clauses: list[Unit]
    idf: dict[str, float]
    max_idf: float
    lowered: str
    names: frozenset[str]
    quantities: list[quantities.Quantity]
    all_terms: frozenset[str]
    all_prefixes: frozenset[str]


def analyse_contexts(contexts: Sequence[str]) -> Passages:
    from endurance.evaluation.entities import capitalised_names

    sentence_units: list[Unit] = []
    clause_units: list[Unit] = []
    every_quantity: list[quantities.Quantity] = []
    for index, context in enumerate(contexts):
        found = quantities.extract(context)
        every_quantity.extend(found)
        for sentence in sentences(context):
            sentence_units.append(analyse(context, sentence, index, found))
            for clause in clauses(context, sentence):
                clause_units.append(analyse(context, clause, index, found))
    document_frequency: dict[str, int] = {}
    for unit in sentence_units:
        for term in unit.term_set:
            document_frequency[term] = document_frequency.get(term, 0) + 1
    total = max(1, len(sentence_units))
    idf = {term: math.log(1 + total / df) for term, df in document_frequency.items()}
    max_idf = math.log(1 + total / 0.5)
    joined = "\n".join(contexts)
    lowered = re.sub(r"'s\b", "", joined.lower().replace("\u2019", "'"))
    all_terms = frozenset().union(*(u.term_set for u in sentence_units)) if sentence_units else frozenset()
    return Passages(list(contexts), sentence_units, clause_units, idf, max_idf, lowered,
                    capitalised_names(joined), every_quantity, all_terms, prefixes_of(all_terms))


def weight(term: str, passages: Passages) -> float:
    return passages.idf.get(term, passages.max_idf)


_PREFIX = 5


def prefixes_of(terms: frozenset[str] | set[str]) -> frozenset[str]:
    # Words sharing their first five letters are taken as one word ("registration" ~ "register"): the light
    # stemmer leaves derivational suffixes alone, and this is cheaper than a full stemmer.
    return frozenset(t[:_PREFIX] for t in terms if len(t) >= _PREFIX and not t[:1].isdigit())


def matches(term: str, other: frozenset[str] | set[str], other_prefixes: frozenset[str]) -> bool:
    return term in other or (len(term) >= _PREFIX and term[:_PREFIX] in other_prefixes)


def coverage(terms: frozenset[str] | set[str], other: frozenset[str] | set[str], passages: Passages,
             other_prefixes: frozenset[str] | None = None) -> float:
    """IDF-weighted share of ``terms`` found in ``other`` (exactly, or sharing a five-letter prefix)."""
    if not terms:
        return 1.0
    found_prefixes = prefixes_of(other) if other_prefixes is None else other_prefixes
    total = sum(weight(t, passages) for t in terms)
    return sum(weight(t, passages) for t in terms if matches(t, other, found_prefixes)) / total


def ranked(unit: Unit, candidates: Sequence[Unit], passages: Passages, exclude: frozenset[str] = frozenset(),
           ) -> list[tuple[float, Unit]]:
    terms = unit.term_set - exclude
    scored = [(coverage(terms, candidate.term_set, passages, candidate.prefixes), candidate)
              for candidate in candidates]
    scored.sort(key=lambda pair: -pair[0])
    return scored


def window_terms(unit: Unit, position: int, skip: tuple[int, int] | None = None) -> dict[str, float]:
    """Content words of ``unit`` that belong to the figure at token ``position``, weighted by closeness.

    A word belongs to the figure nearest to it in the unit ("95% of P1 and P2 and 90% of P3": "P3" belongs
    to 90%), so each figure is described by its own words.
    """
    others = [unit.token_index(q.start) for q in unit.quantities]
    others = [o for o in others if o != position and not (skip and skip[0] <= o < skip[1])]
    weights: dict[str, float] = {}
    for term, index in unit.terms:
        if skip and skip[0] <= index < skip[1]:
            continue
        distance = abs(index - position)
        if any(abs(index - other) < distance for other in others):
            continue
        closeness = 1.0 / (1.0 + 0.25 * max(0, distance - 1))
        if closeness > weights.get(term, 0.0):
            weights[term] = closeness
    return weights


def slot_similarity(answer_window: dict[str, float], context_window: dict[str, float],
                    passages: Passages) -> float:
    """How well the words around a number in the answer match the words around one in a context."""
    total = sum(w * weight(t, passages) for t, w in answer_window.items())
    if total == 0:
        return 0.0
    hit = sum(w * weight(t, passages) * context_window.get(t, 0.0) for t, w in answer_window.items())
    return hit / total
