"""Faithfulness: is every claim of the answer supported by the contexts?

Each answer sentence is split into clauses; each clause is aligned to the context sentences that cover it
best and then checked:

* numbers, money, dates, times, durations must match the context figure *in the same slot* (the words
  around the figure in the answer must best match the words around an equal figure in a context), be
  given by the question, or follow arithmetically from the figures at hand;
* named entities must occur in the contexts, and not replace a different name in the aligned sentence;
* polarity: a clause that says the opposite (negation, "prohibited"/"permitted") of a sentence it
  closely matches is a contradiction;
* universal words ("all", "automatically", "all year round", "the same") the aligned sentence lacks are
  an overgeneralisation;
* the clause's content words must be covered well enough by the best context sentence(s).

A sentence is supported when all its clauses are. Thresholds come from ``FaithfulnessThresholds``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from endurance.evaluation import entities as entity_finder
from endurance.evaluation import quantities
from endurance.evaluation.alignment import (
    Passages,
    Unit,
    analyse,
    coverage,
    matches,
    prefixes_of,
    ranked,
    slot_similarity,
    window_terms,
)
from endurance.evaluation.lexicon import CALCULATION_CUES, UNIVERSAL_PHRASES, UNIVERSALS, canonical
from endurance.evaluation.spans import Span, clauses, sentences
from endurance.evaluation.toxicity import toxicity_score


@dataclass(frozen=True)
class FaithfulnessThresholds:
    support: float = 0.5  # minimum coverage of a sentence's content words by its best context sentences
    novelty: float = 0.6  # a clause with 3+ new words making up this share of it is unsupported
    slot_margin: float = 0.15  # a different figure must fit the answer's slot this much better than an equal
    slot_strong: float = 0.35  # ... and fit it at least this well, to count as the figure the context gives
    polarity_alignment: float = 0.6  # coverage from which opposite polarity counts as a contradiction
    swap_alignment: float = 0.6  # coverage from which a different name in the same sentence is a swap


@dataclass
class Issue:
    kind: str  # number | date | entity | negation | quantifier | unsupported
    span: str  # exact substring of the answer
    reason: str


@dataclass
class SentenceVerdict:
    text: str
    supported: bool
    support: float
    issues: list[Issue] = field(default_factory=list)


_DATE_DIMS = ("date", "month", "year", "time")


def check_answer(answer: str, passages: Passages, question: str, skip: Sequence[Span],
                 thresholds: FaithfulnessThresholds) -> list[SentenceVerdict]:
    """Verdicts for every answer sentence with content, skipping sentences in ``skip`` (refusal sentences)."""
    answer_quantities = [q for q in quantities.extract(answer) if not _is_identifier(answer, q)]
    question_quantities = quantities.extract(question)
    sentence_spans = sentences(answer)
    starts = {s.start for s in sentence_spans}
    names = passages.names | entity_finder.capitalised_names(question)
    answer_entities = entity_finder.extract(answer, starts, names)
    question_lower = entity_finder.normalise(question)
    context_digits = re.sub(r"\D", "", "".join(passages.contexts) + question)
    verdicts: list[SentenceVerdict] = []
    for sentence in sentence_spans:
        if any(s.start <= sentence.start and sentence.end <= s.end for s in skip):
            continue
        sentence_unit = analyse(answer, sentence, -1, answer_quantities)
        if not sentence_unit.terms and not sentence_unit.quantities:
            continue
        best_sentences = ranked(sentence_unit, passages.sentences, passages)
        pool = _operand_pool(question_quantities, answer_quantities, sentence)
        issues: list[Issue] = []
        numeric_terms: set[str] = set()
        for clause in clauses(answer, sentence):
            unit = analyse(answer, clause, -1, answer_quantities)
            if (not unit.terms and not unit.quantities) or toxicity_score(clause.text) >= 0.5:
                continue  # a rude aside is judged by the toxicity metric, not as a claim about the contexts
            clause_entities = [e for e in answer_entities if e.start >= clause.start and e.end <= clause.end]
            clause_issues, numbers_verified = _check_clause(
                unit, clause_entities, passages, question_quantities, question_lower, pool, thresholds,
                answer,
            )
            issues.extend(clause_issues)
            if numbers_verified:
                numeric_terms.update(unit.term_set)
        for code in _CODE.finditer(sentence.text):
            digits = re.sub(r"\D", "", code.group(0))
            if len(digits) >= 5 and digits not in context_digits:
                issues.append(Issue("number", code.group(0), f"{code.group(0)!r} is not in the contexts"))
        if toxicity_score(sentence.text) >= 0.5 and not issues:
            continue
        support = _sentence_support(sentence_unit, best_sentences, passages, frozenset(numeric_terms))
        if not issues and support < thresholds.support:
            issues.append(Issue("unsupported", sentence.text,
                                f"only {support:.0%} of its content is found in the contexts"))
        verdicts.append(SentenceVerdict(sentence.text, not issues, round(support, 4), issues))
    return verdicts


# Codes and identifiers with digits (phone numbers, account numbers, references) compare as digit strings.
_CODE = re.compile(r"(?<![\w£$€.])(?:\+?\d[\d -]{6,}\d|[A-Z]{1,4}[-/]?\d[\w/-]*\d)(?![\w%])")


def _is_identifier(text: str, quantity: quantities.Quantity) -> bool:
    for code in _CODE.finditer(text):
        if code.start() <= quantity.start and quantity.end <= code.end() and quantity.dim == "count":
            return True
    return False


def _sentence_support(unit: Unit, best: list[tuple[float, Unit]], passages: Passages,
                      verified: frozenset[str]) -> float:
    """Coverage of the sentence by its best context sentence, or by its best two or three together (a
    sentence may join facts); words of clauses whose figures were verified exactly count as supported."""
    if not unit.term_set or not best:
        return 1.0
    terms = unit.term_set
    covered: frozenset[str] = verified
    prefixes = prefixes_of(verified)
    score = 0.0
    for rank, (_, other) in enumerate(best[:3]):
        covered = covered | other.term_set
        prefixes = prefixes | other.prefixes
        score = max(score, coverage(terms, covered, passages, prefixes) - 0.05 * rank)
    return score


def _operand_pool(question_quantities: list[quantities.Quantity],
                  answer_quantities: list[quantities.Quantity], sentence: Span) -> list[quantities.Quantity]:
    """Figures an answer may compute with: the question's and the answer's own (up to this sentence).

    An answer that computes shows its working ("£32 halved is £16"); a figure reachable only from context
    figures the answer never mentions is more likely a changed number than a calculation.
    """
    return list(question_quantities) + [q for q in answer_quantities if q.start < sentence.end]


def _check_clause(unit: Unit, clause_entities: list[entity_finder.Entity], passages: Passages,
                  question_quantities: list[quantities.Quantity], question_lower: str,
                  pool: list[quantities.Quantity], thresholds: FaithfulnessThresholds, answer_text: str,
                  ) -> tuple[list[Issue], bool]:
    """Exact checks of one clause; returns the issues and whether it had figures that all verified."""
    issues: list[Issue] = []
    entity_terms = frozenset(
        canonical(w) for e in clause_entities for w in re.findall(r"[A-Za-z]+", e.text)
    )
    best_sentences = ranked(unit, passages.sentences, passages)
    checked = [q for q in unit.quantities if not re.match(r"(?i)an?\s", q.text)]
    for quantity in checked:
        # Operands: the question's figures and the answer's figures *before* this one.
        operands = [q for q in pool if q in question_quantities or q.start < quantity.start]
        problem = _check_quantity(quantity, unit, passages, question_quantities,
                                  _Lazy(operands), thresholds)
        if problem:
            kind = "date" if quantity.dim in _DATE_DIMS else "number"
            issues.append(Issue(kind, unit.text, problem))
    numbers_verified = bool(checked) and not issues
    for entity in clause_entities:
        problem = _check_entity(entity, unit, passages, question_lower, best_sentences, entity_terms,
                                thresholds, answer_text)
        if problem:
            issues.append(Issue("entity", unit.text, problem))
    problem = _check_polarity(unit, ranked(unit, passages.clauses, passages), passages, thresholds)
    if problem:
        issues.append(Issue("negation", unit.text, problem))
    problem = _check_universals(unit, best_sentences)
    if problem:
        issues.append(Issue("quantifier", unit.text, problem))
    words = unit.term_set - entity_terms
    if len(words) >= 3 and not numbers_verified:
        novel = [w for w in words if not matches(w, passages.all_terms, passages.all_prefixes)]
        if len(novel) >= 3 and len(novel) >= thresholds.novelty * len(words):
            issues.append(Issue("unsupported", unit.text,
                                f"{len(novel)} of its {len(words)} content words appear nowhere in the "
                                "contexts"))
    return issues, numbers_verified


class _Lazy:
    """Derivations are built only for figures that need them (most figures are quoted, not computed)."""

    def __init__(self, operands: list[quantities.Quantity]) -> None:
        self.operands = operands
        self.built: quantities.Derivations | None = None

    def reaches(self, target: quantities.Quantity) -> bool:
        if self.built is None:
            self.built = quantities.Derivations(self.operands)
        return self.built.reaches(target)


def _check_quantity(quantity: quantities.Quantity, unit: Unit, passages: Passages,
                    question_quantities: list[quantities.Quantity], derivations: _Lazy,
                    thresholds: FaithfulnessThresholds) -> str | None:
    if any(quantities.same_value(quantity, q) for q in question_quantities):
        return None
    if quantity.dim == "year":
        years = {q.value for q in passages.quantities if q.dim == "year"}
        years |= {float(q.date[0]) for q in passages.quantities if q.dim == "date" and q.date[0]}
        if quantity.value in years:
            return None
        return f"{quantity.text!r} is not stated in the contexts"
    position = unit.token_index(quantity.start)
    end = max(position + 1, unit.token_index(quantity.end))
    answer_window = window_terms(unit, position, (position, end))
    best_rival: tuple[float, quantities.Quantity | None, Unit | None] = (0.0, None, None)
    best_equal: tuple[float, quantities.Quantity | None, Unit | None] = (-1.0, None, None)
    for context_unit in passages.clauses:
        for candidate, context_window in context_unit.quantity_slots():
            equal = quantities.same_value(quantity, candidate)
            if not equal and not (_comparable(quantity, candidate) and _same_shape(quantity, candidate)):
                continue
            score = slot_similarity(answer_window, context_window, passages)
            if equal and score > best_equal[0]:
                best_equal = (score, candidate, context_unit)
            elif not equal and score > best_rival[0]:
                best_rival = (score, candidate, context_unit)
    if best_equal[1] is not None and best_rival[1] is not None and best_equal[2] is best_rival[2]:
        # Two ends of one range ("02:00-06:00") share their words: the other end is no rival.
        shared = best_equal[2]
        gap = abs(shared.token_index(best_equal[1].start) - shared.token_index(best_rival[1].start))
        if gap <= 3:
            best_rival = (0.0, None, None)
    if len(answer_window) < 2:
        best_rival = (0.0, None, None) if best_equal[1] is not None else best_rival
    calculated = bool(CALCULATION_CUES.search(unit.text))
    if best_equal[1] is not None:
        rival_wins = best_rival[0] >= max(best_equal[0] + thresholds.slot_margin, thresholds.slot_strong)
        if not rival_wins:
            return None
        if calculated and derivations.reaches(quantity):
            return None
        return f"{quantity.text!r} does not match the contexts, which give {best_rival[1].text!r} here"
    if calculated and derivations.reaches(quantity):
        return None
    if best_rival[1] is not None and best_rival[0] >= thresholds.slot_strong:
        return f"{quantity.text!r} does not match the contexts, which give {best_rival[1].text!r} here"
    return f"{quantity.text!r} is not stated in the contexts"


def _same_shape(one: quantities.Quantity, other: quantities.Quantity) -> bool:
    # "16" does not compete with a section number "3.2": counts compete only with counts of the same shape.
    if one.dim != "count" or other.dim != "count":
        return True
    return float(one.value).is_integer() == float(other.value).is_integer()


def _comparable(answer: quantities.Quantity, context: quantities.Quantity) -> bool:
    if answer.dim in ("date", "month"):
        return context.dim in ("date", "month")
    if answer.dim in ("duration", "workduration"):
        return context.dim in ("duration", "workduration")
    return answer.dim == context.dim


def _check_entity(entity: entity_finder.Entity, unit: Unit, passages: Passages, question_lower: str,
                  best_sentences: list[tuple[float, Unit]], entity_terms: frozenset[str],
                  thresholds: FaithfulnessThresholds, answer_text: str) -> str | None:
    if entity.norm in question_lower:
        return None
    if not entity_finder.mentioned(entity, passages.lowered, "\n".join(passages.contexts)):
        return f"{entity.text!r} is not mentioned in the contexts"
    # A swap: the clause matches one context sentence closely, that sentence names someone/something
    # else the answer never mentions, and this name is not in it.
    if not best_sentences:
        return None
    terms = unit.term_set - entity_terms
    for score, sentence in best_sentences[:1]:
        if coverage(terms, sentence.term_set, passages) < thresholds.swap_alignment:
            continue
        sentence_lower = sentence.text.lower().replace("\u2019", "'")
        if entity.norm in sentence_lower:
            return None
        others = entity_finder.extract(sentence.text, {0}, passages.names)
        answer_lower = answer_text.lower()
        rivals = [o for o in others if o.norm not in answer_lower and o.norm not in entity.norm
                  and entity.norm not in o.norm and _same_kind(o, entity)
                  and len(o.norm.split()) == len(entity.norm.split())]
        if rivals and score >= thresholds.swap_alignment:
            return f"{entity.text!r} where the context says {rivals[0].text!r}"
    return None


def _same_kind(one: entity_finder.Entity, other: entity_finder.Entity) -> bool:
    # Codes vs names: "P3" competes with "P1", not with "Critical Care".
    return bool(re.search(r"\d", one.text)) == bool(re.search(r"\d", other.text))


def _check_polarity(unit: Unit, best_clauses: list[tuple[float, Unit]], passages: Passages,
                    thresholds: FaithfulnessThresholds) -> str | None:
    if not best_clauses:
        return None
    top = best_clauses[0][0]
    for score, clause in best_clauses[:3]:
        if score < thresholds.polarity_alignment or score < top - 0.1:
            break
        shared = unit.term_set & clause.term_set
        # Both ways: the clause is about what the context clause is about (not two words in common).
        if len(shared) < 2 or coverage(clause.term_set, unit.term_set, passages, unit.prefixes) < 0.3:
            continue
        if clause.negated != unit.negated:
            side = "negates" if unit.negated else "drops the negation of"
            return f"it {side} what the context says: {clause.text!r}"
    # A short negative rule the clause restates positively ("no children under 12").
    for clause in passages.clauses:
        if not clause.negated or unit.negated or len(clause.term_set) < 2:
            continue
        if coverage(clause.term_set, unit.term_set, passages) >= 0.9 and len(clause.term_set) <= 4:
            return f"it states positively what the context rules out: {clause.text!r}"
    return None


def _check_universals(unit: Unit, best_sentences: list[tuple[float, Unit]]) -> str | None:
    if not best_sentences:
        return None
    lowered = unit.text.lower()
    markers = [m.group(0) for m in UNIVERSAL_PHRASES.finditer(lowered)]
    # "any that ...", "every day" (a frequency) and "each of" restrict rather than generalise.
    markers += [m.group(1) for m in re.finditer(
        r"\b(every|each|any|all|[a-z]+)\b(?!\s+(?:that|who|which|of|one|other|day|week|fortnight|month|year|morning|evening|"
        r"night|weekday|hour|minute|time|january|february|march|april|may|june|july|august|september|october|"
        r"november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b)", lowered)
        if m.group(1) in UNIVERSALS] + [w for w in re.findall(r"\b(?:same|whole|entire)\b", lowered)]
    if not markers:
        return None
    support_text = " ".join(s.text.lower() for score, s in best_sentences[:2])
    for marker in markers:
        if marker not in support_text and canonical(marker) not in {canonical(w) for w in
                                                                     re.findall(r"[a-z]+", support_text)}:
            return f"{marker!r} generalises beyond the contexts"
    return None
