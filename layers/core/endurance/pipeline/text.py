"""Text analysis shared by the offline embedder, the lexical index, the answerer and the evaluator.

One analyser everywhere means a word counts as "the same word" in retrieval, answer selection and the
faithfulness check alike. Deliberately small: lower-casing, a stop list and a light suffix stemmer.
"""

from __future__ import annotations

import re
from functools import lru_cache


def word_list(text: str) -> frozenset[str]:
    """A set of words written as whitespace-separated text (easier to read and edit than a literal)."""
    return frozenset(text.split())


STOP_WORDS = word_list(
    """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing done down during each either else even ever
    every few for from further get gets getting give given gives go goes going got had has have having
    he her here hers herself him himself his how however i if in into is it its itself just least less
    let like made make makes many may me might mine more most much must my myself no nor not now of off
    on once one only onto or other others our ours ourselves out over own per please rather said same
    say says she should since so some such than that the their theirs them themselves then there these
    they this those though through thus to too under until up upon us use used uses using very via was
    we were what whatever when where whether which while who whom whose why will with within without
    would yes yet you your yours yourself yourselves s t ll ve re d m
    """
)

# Numbers keep their decimals and drop thousands separators so "500,000" and "500000" match exactly;
# fiscal years ("2022-23") stay one token because they identify a budget year.
_TOKEN = re.compile(r"\d{4}-\d{2}(?!\d)|\d[\d,]*(?:\.\d+)?|[a-z][a-z0-9]*(?:'\u2019][a-z]+)?")
_NUMBER = re.compile(r"\d{4}-\d{2}(?!\d)|\d[\d,]*(?:\.\d+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "cf.", "no.", "vs.", "approx.", "incl.", "para.")


def normalise_number(token: str) -> str:
    token = token.replace(",", "")
    if "." in token and "-" not in token:
        token = token.rstrip("0").rstrip(".") or "0"
    return token


def is_number(token: str) -> bool:
    return token[:1].isdigit()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English suffix stripper: enough to match plurals and common verb forms."""
    if len(word) <= 3 or word[:1].isdigit():
        return word
    word = word.replace("\u2019", "'")
    if word.endswith("'s"):
        word = word[:-2]
    for suffix, replacement, min_stem in (
        ("ies", "y", 2),
        ("sses", "ss", 2),
        ("ness", "", 4),
        ("ments", "", 4),
        ("ment", "", 4),
        ("ations", "ate", 3),
        ("ation", "ate", 3),
        ("ings", "", 3),
        ("ing", "", 3),
        ("ied", "y", 2),
        ("ed", "", 3),
        ("es", "", 4),
        ("s", "", 3),
        ("ly", "", 4),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= min_stem:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            if suffix == "es" and not word.endswith(("ches", "shes", "xes", "zes", "sses")):
                return word[:-1]
            word = word[: len(word) - len(suffix)] + replacement
            # "planned" -> "plann" -> "plan": undo a doubled final consonant left by -ed/-ing.
            if suffix in ("ed", "ing", "ings") and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break
    return word.rstrip("e") if len(word) > 4 and word.endswith("e") else word


def words(text: str) -> list[str]:
    """Every token, lower-cased, numbers normalised; stop words kept."""
    return [normalise_number(t) if is_number(t) else t for t in _TOKEN.findall(text.lower())]


def content_terms(text: str) -> list[str]:
    """Stemmed tokens without stop words, in order (duplicates kept): the unit of lexical matching."""
    return [t if is_number(t) else stem(t) for t in words(text) if t not in STOP_WORDS]


def numbers(text: str) -> set[str]:
    """The numbers a text states, normalised ("VLC 1,200.50" -> "1200.5")."""
    return {normalise_number(n) for n in _NUMBER.findall(text)}


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences; keeps abbreviations and decimal numbers intact."""
    pieces: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(line):
            candidate = line[start : match.start()].strip()
            if candidate.lower().endswith(_ABBREVIATIONS):
                continue
            if candidate:
                pieces.append(candidate)
            start = match.end()
        rest = line[start:].strip()
        if rest:
            pieces.append(rest)
    return pieces
