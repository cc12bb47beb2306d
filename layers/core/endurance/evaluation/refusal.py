"""Refusals: does the answer decline ("the documents don't say ...")? And was declining right?

A refusal is *correct* when no context actually answers the question; declining although a context does is
a failure of its own (and a false claim about the contexts, so it also counts as unfaithful).
"""

from __future__ import annotations

import re

from endurance.evaluation.spans import Span, sentences

_REFUSAL = re.compile(
    r"\bi (?:could not|couldn't|cannot|can't|can not|am unable to|was unable to|'m unable to|'m not able to|"
    r"am not able to|don't have enough information to|do not have enough information to) "
    r"(?:find|answer|help|say|tell|provide|give|confirm|locate|see)\b|"
    r"\b(?:isn't|is not|aren't|are not|wasn't|was not|weren't) (?:included|given|stated|mentioned|covered|"
    r"specified|listed|provided|available|set out|in the|in these|in this|in what i have|in my)\b|"
    r"\b(?:doesn't|does not|don't|do not|didn't|did not) (?:say|state|give|mention|cover|include|specify|"
    r"contain|provide|list|set out|tell|address|explain|show)\b|"
    r"\b(?:no|not enough|insufficient) (?:information|details|data|mention)\b|"
    r"\b(?:there is|there's) nothing (?:in|about)\b|"
    r"\bi (?:do not|don't) (?:have|know)\b|\bnot (?:something|a question) (?:i|the documents)\b|"
    r"\b(?:unable|not able) to (?:answer|find|say|tell)\b|\bcan(?:no|')t (?:answer|tell you|say)\b|"
    r"\bbeyond (?:the scope|what)\b|\boutside (?:the scope|what)\b",
    re.IGNORECASE,
)
# Said of the sources ("the documents/terms/policy/extract ... don't say"): a refusal names what is missing.
_ABOUT_SOURCES = re.compile(
    r"\b(?:documents?|sources?|context|contexts|information|extracts?|terms|policy|policies|schedule|guide|"
    r"record|records|faq|report|sla|rules|guidance|handbook|contract|agreement|notice|material|text|"
    r"what i have|these|they|it|i)\b",
    re.IGNORECASE,
)


_MISSING_OBJECT = re.compile(
    r"(?:doesn't|does not|don't|do not|didn't|did not)\s+(?:say|state|give|mention|cover|include|specify|"
    r"contain|provide|list|set out|tell|address|explain|show)\s+(?:(?:you|me|us)\s+)?"
    r"(?P<after>[^.;:\u2014\u2013]+)|"
    r"(?P<before>[^.;:\u2014\u2013,]+?)\s+(?:isn't|is not|aren't|are not|wasn't|was not)\s+"
    r"(?:included|given|stated|mentioned|covered|specified|listed|provided|available|set out)",
    re.IGNORECASE,
)


def missing_objects(refusals: list[Span]) -> list[str]:
    """What each refusal says the contexts lack ("... doesn't give *a deadline for householder appeals*")."""
    found = []
    for sentence in refusals:
        for match in _MISSING_OBJECT.finditer(sentence.text.replace("\u2019", "'")):
            phrase = match.group("after") or match.group("before") or ""
            phrase = re.split(r",\s*(?:so|but|and)\b", phrase)[0]
            if phrase.strip():
                found.append(phrase.strip())
    return found


def refusal_sentences(answer: str) -> list[Span]:
    """Sentences of the answer that decline to answer (empty when it does answer)."""
    found = []
    for sentence in sentences(answer):
        text = sentence.text.replace("\u2019", "'")
        match = _REFUSAL.search(text)
        if match and _ABOUT_SOURCES.search(text):
            found.append(sentence)
    return found


def is_refusal(answer: str, refusals: list[Span]) -> bool:
    """The answer as a whole is a refusal when a refusal sentence carries its main point.

    "X, but the number isn't in what I have" is a refusal; "Yes, ... . Ask your bank; the policy doesn't
    cover joint accounts." is an answer with a caveat. The first refusal must be the first or last sentence
    and refusal sentences must be at least half of the answer.
    """
    if not refusals:
        return False
    every = sentences(answer)
    if not every:
        return False
    first_or_last = refusals[0].start == every[0].start or refusals[-1].end == every[-1].end
    return first_or_last and len(refusals) * 2 >= len(every)
