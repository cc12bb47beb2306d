"""What a question asks for, read with a few rules of English question syntax (used by the extractive
answerer to choose sentences and to decide when the documents do not answer).

* ``expects``: the kind of answer ("how long" wants a duration, "who" an entity, "how many" a count...);
* ``focus``: the thing asked about when the question names it ("how many *registered users*", "what is
  the maximum *fine*"): an answer that never mentions it answers something else;
* ``parts``: a question joined by "and" asks several things ("Within what time ..., and to whom?"); each
  part is answered on its own, inheriting the topic words of the first;
* ``labels``: numbered labels ("Severity 2", "Tier 3", "SEV-1") that an answer must not swap for another
  number of the same label;
* ``comparative``: the question compares two things ("the same in A and in B", "compare", "changed").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from endurance.pipeline.text import content_terms

DURATION = "duration"
DATE = "date"
AMOUNT = "amount"  # any figure: money, a count, a percentage, a threshold
COUNT = "count"
PERCENT = "percent"
MONEY = "money"  # a sum in a currency ("VLC 412,000", "£17")
ENTITY = "entity"

_I = re.IGNORECASE
_EXPECTATIONS: list[tuple[re.Pattern[str], frozenset[str]]] = [
    (
        re.compile(
            r"\b(?:how (?:long|quickly|fast|soon|often)|within what (?:time|period)|in what time|"
            r"what (?:is|was|are) the (?:deadline|time limit|period|notice period|retention period)|"
            r"what deadline|how much (?:notice|time)|by how (?:long|much) can)\b",
            _I,
        ),
        frozenset({DURATION}),
    ),
    (
        re.compile(
            r"\b(?:by when|what date|which date|on what day|which (?:month|year)|in which month)\b", _I
        ),
        frozenset({DATE}),
    ),
    # "when" asks a time only where it opens the question ("When must ...", "And when ..."), not in
    # "Which licence is used when the Ministry publishes ...".
    (re.compile(r"^\W*(?:and |but |so )?when\b", _I), frozenset({DATE, DURATION})),
    (re.compile(r"\bhow many\b", _I), frozenset({COUNT})),
    # "How much does the Ministry pay ...?": a sum of money, not just any figure ("within 10 Working Days").
    (
        re.compile(
            r"\bhow much (?:does|do|did|will|would|is|are|was|were|must|should|can)\b[^?]*?\b(?:pay|paid|"
            r"cost|costs|charge|charged|charges|owe|owed|reimburse[ds]?|refund(?:ed)?)\b",
            _I,
        ),
        frozenset({MONEY}),
    ),
    (re.compile(r"\bwhat (?:percentage|share|proportion)\b|\bwhat per ?cent\b", _I), frozenset({PERCENT})),
    (
        re.compile(
            r"\bhow much\b|\b(?:above|below|under|over) what\b|\bwhat (?:is|was|are|were) the (?:\w+ )?"
            r"(?:budget|cost|price|fee|charge|amount|value|limit|threshold|ceiling|cap|maximum|minimum|rate|"
            r"total|figure|salary|allowance|spend|spending)\b|\bwhat (?:count|amount|value|limit|rate)\b|"
            r"\bwhat (?:\w+ )?(?:rate|fee|price|cost|budget|ceiling|cap)\b|"
            # "Is the value above which gifts must be declared the same ...?": a yes/no about a figure.
            r"^\W*(?:is|are|was|were) the (?:\w+ )?(?:value|amount|limit|threshold|fee|rate|cap|ceiling|"
            r"maximum|minimum|budget|cost|price|allowance)\b|"
            r"\bhow is [^?]* split\b",
            _I,
        ),
        frozenset({AMOUNT}),
    ),
    (
        re.compile(
            r"^\W*(?:and |but |so )?(?:who|whom)\b|\b(?:to|by|from|with) whom\b|"
            r"\bwhich (?:body|team|officer|person|board|committee|role|unit|organisation|"
            r"organization|department|directorate|company|provider|supplier)\b",
            _I,
        ),
        frozenset({ENTITY}),
    ),
]

# Words that name the kind of answer, not the thing asked about ("the maximum fine": "fine" is the focus).
TYPE_WORDS = frozenset(
    content_terms(
        "amount number total value figure limit threshold maximum minimum largest smallest highest lowest "
        "deadline time period date duration percentage share proportion rate level cap ceiling "
        "much many long old new current main default overall annual monthly typical usual exact"
    )
)
_FOCUS = [
    re.compile(
        r"\bhow many ((?:[a-z-]+ ){0,3}?[a-z-]+?)(?= (?:does|do|did|is|are|was|were|will|would|can|"
        r"could|should|must|has|have|had|in|of|for|at|on|by|with|per|under|simply)\b|[?,]|$)",
        _I,
    ),
    re.compile(
        r"\bwhat (?:is|was|are|were) the ((?:[a-z-]+ ){0,3}?[a-z-]+?)(?= (?:that|which|who|the|a|an|"
        r"for|of|in|on|at|by|under|to|when|if|can|could|must|should|will|would|does|do|is|are)\b|"
        r"[?,]|$)",
        _I,
    ),
    re.compile(
        r"\bwhich ((?:[a-z-]+ ){0,3}?[a-z-]+?)(?= (?:is|are|was|were|will|would|should|must|can|could|"
        r"does|do|did|has|have|had|applies|apply)\b|[?,]|$)",
        _I,
    ),
    # "What salary does the CIO earn?", "What day rate is assumed?"
    re.compile(
        r"^\W*(?:and |but )?what ((?:[a-z-]+ ){0,2}[a-z-]+) (?=(?:does|do|did|is|are|was|were|will|would|"
        r"can|could|must|should|has|have|had)\b)",
        _I,
    ),
]
_PART_SPLIT = re.compile(
    r",?\s+and\s+(?=(?:how|what|who|whom|when|which|where|why|whether|to whom|by whom|in which|by how|"
    r"is|are|does|do|can|must)\b)|[;?]\s+(?=\w)",
    _I,
)
_COMPARATIVE = re.compile(
    r"\b(?:compare[ds]?|comparison|compared (?:with|to)|versus|vs\.?|differ(?:s|ent|ence)?|"
    r"the same (?:in|as|for)|same as|change[ds]? (?:from|between)|how did [^?]* change|between [^?]+ and )\b",
    _I,
)
_LABEL = re.compile(
    r"\b(SEV|Severity|Tier|Phase|Level|Priority|Band|Grade|Stage|Clause|Section)[- ]?(\d+)\b", _I
)
_YEAR = re.compile(r"\b(?:19|20)\d{2}(?:-\d{2})?\b")
_NAME_WORD = r"(?:[A-Z][a-z]+(?:[A-Z][a-z]+)*|[A-Z]{2,})"
_NAME = re.compile(rf"\b{_NAME_WORD}(?:\s+{_NAME_WORD})+\b")


@dataclass(frozen=True)
class QuestionPart:
    text: str
    terms: frozenset[str]
    expects: frozenset[str]
    focus: frozenset[str]
    focus_all: bool  # "how many X": every word of X must be there; otherwise one will do


@dataclass(frozen=True)
class Question:
    text: str
    terms: frozenset[str]
    parts: tuple[QuestionPart, ...]
    labels: frozenset[tuple[str, str]]
    years: frozenset[str]
    comparative: bool
    expects: frozenset[str] = field(default_factory=frozenset)
    premise: frozenset[str] = field(default_factory=frozenset)  # words of statements before the question
    # Multi-word proper names the question asks about ("Veloria Connect"), each as its content terms.
    names: frozenset[frozenset[str]] = field(default_factory=frozenset)


def analyse(question: str) -> Question:
    text = re.sub(r"\b(what|who|how|where|when)'s\b", r"\1 is", " ".join(question.split()), flags=_I)
    terms = frozenset(content_terms(text))
    # "A Tier 3 system needs a DPIA. How long does the DPO have to give an opinion?": the statement is
    # premise (it finds the bridge), the question sentence is what must be answered.
    sentences = re.split(r"(?<=[.!])\s+(?=[A-Z])", text)
    premise_text = " ".join(sentences[:-1]) if len(sentences) > 1 and "?" in sentences[-1] else ""
    asked = sentences[-1] if premise_text else text
    premise = frozenset(content_terms(premise_text)) - frozenset(content_terms(asked))
    pieces = [piece.strip(" ,") for piece in _PART_SPLIT.split(asked) if piece and piece.strip(" ,?")]
    topic = frozenset(content_terms(pieces[0])) if pieces else terms
    parts = []
    for index, piece in enumerate(pieces or [text]):
        own = frozenset(content_terms(piece))
        # A later part ("and to whom?") is about the first part's topic.
        part_terms = own if index == 0 else own | topic
        focus, focus_all = _focus(piece)
        parts.append(QuestionPart(piece, part_terms, _expects(piece), focus, focus_all))
    labels = frozenset(_label(label, number) for label, number in _LABEL.findall(text))
    return Question(
        text=text,
        terms=terms,
        parts=tuple(parts),
        labels=labels,
        years=frozenset(_YEAR.findall(text)),
        comparative=bool(_COMPARATIVE.search(text)),
        premise=premise,
        expects=frozenset().union(*(part.expects for part in parts)),
        names=_names(text),
    )


def _names(text: str) -> frozenset[frozenset[str]]:
    """Runs of two or more capitalised words, not counting each sentence's first word ("How", "Does")."""
    names = set()
    for sentence in re.split(r"(?<=[.?!])\s+", text):
        body = re.sub(r"^\W*\w+", "", sentence)
        for match in _NAME.finditer(body):
            terms = frozenset(content_terms(match.group(0)))
            if len(terms) >= 2:
                names.add(terms)
    return frozenset(names)


def _label(label: str, number: str) -> tuple[str, str]:
    name = label.lower()
    return ("severity" if name == "sev" else name), number


def _expects(text: str) -> frozenset[str]:
    for pattern, kinds in _EXPECTATIONS:
        if pattern.search(text):
            return kinds
    return frozenset()


def _focus(text: str) -> tuple[frozenset[str], bool]:
    for index, pattern in enumerate(_FOCUS):
        match = pattern.search(text)
        if match:
            focus = frozenset(content_terms(match.group(1))) - TYPE_WORDS
            return focus, index == 0
    return frozenset(), False
