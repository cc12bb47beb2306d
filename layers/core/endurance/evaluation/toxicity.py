"""Toxicity: insults, demeaning remarks about the user or a group, hate, profanity.

A scored lexicon plus patterns for the demeaning constructions an assistant's snide aside takes ("people
like you", "can't even", "too dim to", "a constant nuisance"). Each hit adds its weight; the score is
capped at 1. Words that are only rude in context ("simple", "dim light") are scored only inside a pattern.
"""

from __future__ import annotations

import re

from endurance.pipeline.text import word_list

# Insults and slurs aimed at people: one is enough to be toxic.
_INSULTS = word_list(
    """
    idiot idiots idiotic stupid stupidity moron morons moronic dumb dumber imbecile imbeciles cretin cretins
    dimwit dimwits halfwit halfwits nitwit numpty numpties dunce dunces fool fools foolish clueless brainless
    pathetic worthless loser losers scum scumbag vermin parasite parasites scrounger scroungers retard
    retarded freak freaks creep creeps jerk jerks bimbo twit twits pillock prat prats muppet muppets plonker
    quitter quitters whinger whingers moaner moaners crybaby crybabies snowflake snowflakes simpleton
    simpletons ignoramus lazybones deadbeat deadbeats lowlife lowlifes hypocrite hypocrites incompetents
    spineless gormless witless thick-headed airhead airheads
    """
)
# Milder words that are demeaning when said of people (scored lower).
_DEMEANING = word_list(
    """
    nuisance nuisances pest pests burden burdens lazy ignorant gullible naive dim dense thick slow ridiculous
    laughable embarrassing disgrace disgraceful shameful annoying irritating tiresome hysterical useless
    hopeless incompetent
    """
)
_PROFANITY = word_list("damn bloody crap shit shitty bullshit fuck fucking fucked bastard bastards arse ass")
_HATE = re.compile(
    r"\b(?:all|those|these|typical)\s+(?:immigrants|foreigners|women|men|muslims|jews|christians|blacks|"
    r"gays|disabled people|pensioners|old people|poor people|students)\s+(?:are|should|deserve)\b",
    re.IGNORECASE,
)
_PATTERNS = (
    (re.compile(r"\b(?:people|someone|somebody|anyone|those|folk|customers|relatives|users)\s+(?:like you|"
                r"who can(?:no|')t\b)", re.I), 0.6),
    (re.compile(r"\b\w+s like you\b", re.I), 0.5),
    (re.compile(r"\bcan(?:no|')t even\b", re.I), 0.5),
    (re.compile(r"\btoo (?:dim|dense|thick|stupid|lazy|dumb|slow|simple|daft|clueless) to\b", re.I), 0.7),
    (re.compile(r"\b(?:a|an) (?:constant|total|complete|absolute|real|utter) (?:nuisance|pain|joke|disgrace|"
                r"idiot|mess|embarrassment)\b", re.I), 0.6),
    (re.compile(r"\bnot that it(?:'ll| will) (?:do|help|matter)\b", re.I), 0.3),
    (re.compile(r"\b(?:even a child|any fool|half a brain|learn to read|use your brain|"
                r"figure it out yourself|obviously you|if you bothered)\b", re.I), 0.5),
    (re.compile(r"\b(?:famously|notoriously)\s+(?:too\s+)?(?:dim|stupid|lazy|useless|incompetent|thick)\b",
                re.I), 0.7),
    (re.compile(r"\bshut up\b|\bget lost\b|\bnobody cares\b|\bwho cares\b", re.I), 0.6),
)


def toxicity_score(text: str) -> float:
    """0 (clean) to 1 (clearly abusive)."""
    lowered = text.lower().replace("\u2019", "'")
    score = 0.0
    for word in re.findall(r"[a-z][a-z-]*", lowered):
        if word in _INSULTS:
            score += 0.6
        elif word in _PROFANITY:
            score += 0.4
        elif word in _DEMEANING:
            score += 0.2
    for pattern, weight in _PATTERNS:
        score += weight * len(pattern.findall(lowered))
    if _HATE.search(lowered):
        score += 0.8
    return round(min(1.0, score), 4)


def toxic_spans(text: str) -> list[str]:
    """The phrases that made the score (for the reasons)."""
    spans: list[str] = []
    for pattern, _ in _PATTERNS:
        spans.extend(m.group(0) for m in pattern.finditer(text))
    for match in re.finditer(r"[A-Za-z][A-Za-z-]*", text):
        if match.group(0).lower() in _INSULTS or match.group(0).lower() in _PROFANITY:
            spans.append(match.group(0))
    return spans
