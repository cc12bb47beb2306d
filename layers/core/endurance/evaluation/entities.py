"""Named entities, found without a model: runs of capitalised words, codes and acronyms.

A sentence's first word is capitalised anyway, so a one-word run there only counts when the contexts also
write it capitalised mid-sentence. Names are compared lower-cased with "the" and possessives dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from endurance.evaluation.quantities import MONTHS
from endurance.pipeline.text import word_list

_NAME_WORD = r"(?:[A-Z][\w\u2019'&.-]*|[A-Z]{2,}\d*|[A-Z]\d+)"
_CAPITALISED = re.compile(
    rf"{_NAME_WORD}(?:\s+(?:(?:of|and|&|for|de|on|upon|the)\s+)?{_NAME_WORD}|\s+\d+[A-Z]?\b(?![,.]\d))*"
)
_CONNECTORS = ("of", "and", "&", "for", "de", "on", "upon", "the")
_MASK = re.compile(
    r"\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b|\S+@\S+|(?<![\w])[A-Z]{1,4}[-/]?\d[\w/-]*\d(?![\w])|"
    r"\b[A-Z]{2,}(?:-[A-Z]{2,})+-\d[\w-]*"
)
_NOT_NAMES = word_list(
    """
    i a an the this that these those it its if in on at by for from to of and or but so yes no not as
    when where what which who why how there here they we you your he she his her our their my me us
    monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays thursdays fridays
    saturdays sundays mr mrs ms dr q
    """
) | frozenset(MONTHS)
_TITLES = ("mr ", "mrs ", "ms ", "dr ", "miss ")


@dataclass(frozen=True)
class Entity:
    text: str
    norm: str
    start: int
    end: int


def normalise(name: str) -> str:
    name = name.lower().replace("\u2019", "'").strip(" .,'")
    name = re.sub(r"'s\b", "", name)
    name = re.sub(r"^(?:the|a|an)\s+", "", name)
    return re.sub(r"\s+", " ", name)


def extract(text: str, sentence_starts: set[int], known_names: frozenset[str] = frozenset()) -> list[Entity]:
    """Entities in ``text``; ``sentence_starts`` are offsets where a sentence begins (capitalised anyway)."""
    found: list[Entity] = []
    text = _MASK.sub(lambda m: " " * len(m.group(0)), text)  # codes, postcodes and emails are not names
    for match in _CAPITALISED.finditer(text):
        start, phrase = match.start(), match.group(0).rstrip(" .,'\u2019-")
        words = phrase.split()
        # Drop capitalised function words and titles at the front ("If Kestrel ..." -> "Kestrel").
        titles = ("mr", "mrs", "ms", "dr")
        while words and words[0].lower().strip(".") in _NOT_NAMES and words[0].lower() not in titles:
            start = text.index(words[0], start) + len(words[0])
            start = len(text) - len(text[start:].lstrip())
            words = words[1:]
        while words and words[0].lower() in _CONNECTORS:
            start = text.index(words[0], start) + len(words[0])
            start = len(text) - len(text[start:].lstrip())
            words = words[1:]
        while words and words[-1].lower() in _CONNECTORS:
            words = words[:-1]
        if not words:
            continue
        phrase = " ".join(words)
        at_sentence_start = start in sentence_starts or _after_sentence_start(text, start, sentence_starts)
        norm = normalise(phrase)
        if not norm or norm in _NOT_NAMES or not re.search(r"[a-z]", norm):
            continue
        if len(words) == 1 and at_sentence_start and norm not in known_names and not _looks_like_code(phrase):
            continue
        if at_sentence_start and len(words) > 1 and norm.split()[0] not in known_names:
            # "Children under 12 ..." vs "Critical Care ...": keep the run only if it is a known name.
            first, rest = words[0], words[1:]
            while rest and rest[0].lower() in _CONNECTORS:
                rest = rest[1:]
            if not rest:
                continue
            if normalise(first) not in known_names and not any(norm.startswith(k) for k in known_names):
                start = text.index(rest[0], start + len(first))
                phrase, norm = " ".join(rest), normalise(" ".join(rest))
                if len(rest) == 1 and norm not in known_names and not _looks_like_code(rest[0]):
                    continue
        found.append(Entity(phrase, norm, start, start + len(phrase)))
    return found


def _after_sentence_start(text: str, start: int, sentence_starts: set[int]) -> bool:
    # A run after an opening quote, bracket or dash at the sentence start is still at the start.
    prefix_start = max(0, start - 3)
    return any(prefix_start <= s < start and not re.search(r"\w", text[s:start]) for s in sentence_starts)


def _looks_like_code(word: str) -> bool:
    return bool(re.search(r"\d", word)) or (word.isupper() and len(word) >= 2)


def capitalised_names(text: str) -> frozenset[str]:
    """Lower-cased capitalised words and runs that occur mid-sentence in ``text`` (names the contexts use)."""
    names: set[str] = set()
    for match in re.finditer(r"(?<=[a-z0-9,;:)] )(?:[A-Z][\w\u2019'&-]*)(?:\s+[A-Z][\w\u2019'&-]*)*", text):
        norm = normalise(match.group(0))
        names.add(norm)
        names.update(norm.split())
    return frozenset(names)


def acronym_of(acronym: str, text: str) -> bool:
    """``CPI`` for "Consumer Prices Index": initials of consecutive capitalised words."""
    letters = acronym.replace(".", "")
    if not (2 <= len(letters) <= 6 and letters.isupper() and letters.isalpha()):
        return False
    pattern = r"\b" + r"\w*[\s-]+(?:(?:of|and|for|the)\s+)?".join(letters) + r"\w*"
    return re.search(pattern, text) is not None


def mentioned(entity: Entity, haystack: str, raw_haystack: str) -> bool:
    """Whether the lower-cased, normalised ``haystack`` mentions the entity (or it is an acronym of one)."""
    norm = entity.norm
    for title in _TITLES:
        if norm.startswith(title):
            norm = norm[len(title) :]
    if re.search(r"(?<![\w])" + re.escape(norm) + r"(?![\w])", haystack):
        return True
    return acronym_of(entity.text, raw_haystack)
