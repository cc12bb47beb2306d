"""Conversation memory: a follow-up question is rewritten into one that stands on its own before retrieval.

"What about 2022-23?" after "What was the cybersecurity budget in 2023-24?" must retrieve the 2022-23
figure, so the classify step reads the session's previous turns and stores the standalone question in the
state (``classification.standalone_question``); retrieve, answer and evaluate use it (``question_of``).

Offline the rewrite is a deterministic rule, in two steps:
* a follow-up that only changes a year, a fiscal year, a severity/tier/phase level or an amount ("And for
  2022-23?", "what about SEV-2?") is the previous question with that value swapped in;
* any other follow-up (a continuation cue such as "and", "what about", or a pronoun with too little content
  of its own, as in "Who must approve it?") keeps its words and carries the previous question as context:
  "Who must approve it? (context: <previous question>)". Retrieval and the answerer then see both.
With an LLM the condense prompt does the same job (``adapters.llm.condenser``), falling back to this rule.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from endurance.domain.models import JobEnvelope
from endurance.pipeline.text import STOP_WORDS, words
from endurance.ports.storage import SessionRepository

logger = logging.getLogger(__name__)

History = Sequence[tuple[str, str]]  # (standalone question, answer), oldest first

_CUE = re.compile(
    r"^(?:(?:and|but|also|ok(?:ay)?|so|then|right|thanks|thank you)[,!.]?\s+)*"
    r"(?:what about|how about|what of|and what about|same (?:question )?for|the same for|and for|and in|"
    r"and the|and|also|but|what if)\b[,:]?\s*",
    re.IGNORECASE,
)
_PRONOUN = re.compile(
    r"\b(?:it|its|itself|that|this|these|those|they|them|their|he|she|him|her|his|the same|there|one)\b",
    re.IGNORECASE,
)
# Values a follow-up may swap into the previous question, by kind (order matters: most specific first).
_SLOTS: dict[str, re.Pattern[str]] = {
    "fiscal_year": re.compile(r"\b(?:19|20)\d{2}[-/]\d{2}\b"),
    "year": re.compile(r"\b(?:19|20)\d{2}\b(?![-/]\d)"),
    "level": re.compile(r"\b(?:SEV|Severity|Tier|Phase|Level|Priority|P)[- ]?\d\b", re.IGNORECASE),
    "amount": re.compile(r"\b(?:VLC|EUR|USD|GBP|€|\$|£)\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:million|m|bn|k))?\b"),
}
_MAX_OWN_TERMS = 3  # a question with more content words than this stands on its own


def rewrite_follow_up(question: str, history: History) -> str:
    """The standalone form of ``question`` given the previous turns (unchanged if it stands alone)."""
    if not history:
        return question
    previous = history[-1][0]
    text = " ".join(question.split())
    cue = _CUE.match(text)
    rest = text[cue.end() :] if cue else text
    swapped, leftover = _swap_slots(rest, previous)
    if swapped is not None and not leftover and (cue or len(_own_terms(rest)) <= _MAX_OWN_TERMS):
        return swapped
    if not (cue or _leans_on_context(text)):
        return question
    body = rest.strip() or text
    body = body[0].upper() + body[1:] if body else body
    if not body.endswith(("?", ".", "!")):
        body += "?"
    # The context follows the follow-up's values too: "the capital budget in 2022-23" keeps 2022-23 alone.
    return f"{body} (context: {swapped or previous})"


def _own_terms(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOP_WORDS and not _PRONOUN.fullmatch(w)]


def _leans_on_context(text: str) -> bool:
    """A pronoun and little else: "When must it be reported?", "Who approves that?"."""
    return bool(_PRONOUN.search(text)) and len(_own_terms(text)) <= _MAX_OWN_TERMS


def _swap_slots(follow_up: str, previous: str) -> tuple[str | None, bool]:
    """``previous`` with each value of ``follow_up`` put in place of the previous value of the same kind
    (None when there is nothing to swap), and whether the follow-up says anything besides those values
    ("what about the capital budget in 2022-23?" is not a pure swap)."""
    result = previous
    swapped = False
    consumed = follow_up
    for pattern in _SLOTS.values():
        new_values = pattern.findall(consumed)
        if not new_values:
            continue
        consumed = pattern.sub(" ", consumed)
        old_values = pattern.findall(result)
        if not old_values:
            return None, True
        for old, new in zip(old_values, new_values, strict=False):
            result = result.replace(old, new, 1)
            swapped = True
    leftover = bool([w for w in words(consumed) if w not in STOP_WORDS and not _PRONOUN.fullmatch(w)])
    return (result if swapped else None), leftover


def history_for(
    sessions: SessionRepository, envelope: JobEnvelope, *, max_turns: int
) -> list[tuple[str, str]]:
    """The session's earlier turns (standalone question, answer), oldest first, at most ``max_turns``.

    Turns of this job or later ones are left out, so a replayed job sees the conversation it first saw.
    A session store that cannot be read costs the context, not the job: the question is answered as asked.
    """
    if max_turns <= 0:
        return []
    try:
        turns = sessions.list_turns(envelope.session_id)
    except Exception:
        logger.warning("could not read the session history", extra={"session_id": envelope.session_id})
        return []
    earlier = [
        turn
        for turn in turns
        if turn.get("job_id") != envelope.job_id and str(turn.get("created_at", "")) <= envelope.created_at
    ]
    return [
        (str(turn.get("standalone_question") or turn.get("question") or ""), str(turn.get("answer") or ""))
        for turn in earlier[-max_turns:]
        if turn.get("question")
    ]


def question_of(state: Mapping[str, Any]) -> str:
    """The question the pipeline answers: the standalone rewrite when classify made one, else as asked."""
    classification = state.get("classification")
    if isinstance(classification, Mapping) and classification.get("standalone_question"):
        return str(classification["standalone_question"])
    job = state.get("job")
    return str(job.get("question", "")) if isinstance(job, Mapping) else ""
