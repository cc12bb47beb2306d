"""Words the engine treats specially: stems and synonym groups, negation, quantifiers, hedges.

Offline paraphrase tolerance comes from here: two words "match" when their canonical forms are equal, the
canonical form being the light stem of ``endurance.pipeline.text`` mapped through small, general synonym
groups (written for English policy, billing and service text, not for any one test file).
"""

from __future__ import annotations

import re
from functools import lru_cache

from endurance.pipeline.text import STOP_WORDS, stem, word_list

# Each line is one group; the first word is the canonical form. Words are matched after stemming.
_SYNONYM_GROUPS = """
pay paid payment payable charge charged charging cost costs costing fee fees price priced spend
refund refunded refundable reimburse reimbursed repay repaid repayment
begin start started starts commence commenced
finish finished end ended ending complete completed completion conclude
allow allowed permit permitted permission may can able entitled eligible qualify qualifies eligibility
require required requirement must need needs needed have_to obliged mandatory compulsory shall
receive received receives get gets got obtain given earn earns
notify notified notification report reported tell inform informed
daily everyday
fortnight fortnightly
week weekly
month monthly
year yearly annual annually annum
rear back
advance ahead beforehand prior
house home dwelling property premise premises household
child children kid kids minor
employee staff worker
customer client
large larger largest big bigger biggest
increase increased rise rises rose risen raise raised grow grew up
decrease decreased fall falls fell fallen reduce reduced reduction drop dropped cut lower lowered
purchase buy bought
assist help support
deliver delivered delivery arrive arrived arrival
phone telephone ring call called
visit visitor visiting visited
decide decided decision determine determined determination
approximately about around roughly nearly almost approx
total overall altogether combined sum
free complimentary
leave leaves left quit
apply applies application
book booked booking reserve reserved reservation
collect collected collection pick picked
cancel cancelled cancellation terminate terminated termination
stay remain remains
answer respond responded response reply replied
fix fixed repair repaired resolve resolved resolution
check review reviewed
contact contacted
limit limited cap capped maximum max ceiling
minimum least
mile miles
hour hours
minute minutes
document documents extract extracts information info policy
go goes went
speed fast quick quickly
exceed exceeds exceeded exceeding surpass surpassed
refuse refused refusal reject rejected rejection
every each per any all
extra additional further more
pause paused stop stopped suspend suspended halt halted
wait waiting await awaiting awaited
family relative relatives relation relations
outage interruption interrupted failure fail failed disruption breakdown fault
storm storms severe
register registration registered
"""


def _synonyms() -> dict[str, str]:
    mapping: dict[str, str] = {}
    for line in _SYNONYM_GROUPS.strip().splitlines():
        group = line.split()
        canonical = plain_stem(group[0])
        for word in group:
            mapping.setdefault(plain_stem(word), canonical)
    return mapping


def plain_stem(word: str) -> str:
    word = word.lower().replace("\u2019", "'")
    for suffix in ("ability", "ibility", "able", "ible"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return stem(word)


SYNONYMS = _synonyms()


@lru_cache(maxsize=65536)
def canonical(word: str) -> str:
    """The form two words must share to count as the same term."""
    base = plain_stem(word)
    return SYNONYMS.get(base, base)


# Words that carry no claim of their own (kept out of support scoring, in addition to the stop list).
FILLER = word_list(
    """
    also just only still really actually basically simply unfortunately fortunately generally normally
    usually currently however therefore thus hence so then there here this that these those it its
    you your yours they them their he she him her his we our us i me my one ones thing things way
    would could should might may can will whenever wherever whichever whoever
    get gets got make makes made take takes took go goes went come comes came
    document documents information extract extracts say says said state states mention mentions
    """
)
STOPS = STOP_WORDS | FILLER  # (negations are added below: polarity is checked on its own)

# Negation and privative predicates (a sentence with an odd number of these says the opposite).
NEGATORS = word_list(
    """
    not no never none nobody nothing neither nor cannot can't won't don't doesn't didn't isn't aren't
    wasn't weren't shouldn't mustn't couldn't wouldn't hasn't haven't hadn't needn't ain't
    """
)
PRIVATIVE_STEMS = frozenset(
    plain_stem(w)
    for w in word_list(
        """
        prohibited prohibit prohibits banned ban bans forbidden forbid forbids excluded exclude excludes
        exempt barred unable unavailable ineligible disallowed nonrefundable
        non-refundable cease ceases lapse lapses void withdrawn
        """
    )
)
STOPS = STOPS | NEGATORS

# Bounds that look like negation but are not ("no more than 80%" says "at most 80%").
BOUND_PHRASES = re.compile(
    r"\b(?:no|not) (?:more|less|fewer|later|earlier|longer|shorter|greater|higher|lower|sooner) than\b|"
    r"\bnot exceeding\b|\bno later\b|\bnot before\b|\bno earlier\b|\bwithout (?:charge|cost|fee|delay)\b|"
    r"\bno (?:extra|additional) (?:cost|charge)\b|\bfree of charge\b|\bnot only\b|\bno matter\b|"
    r"\bregardless\b|\bno issues\b|\bno fee\b|\bnot need\b|\bno need\b|^\W*(?:no|yes|not really|"
    r"unfortunately not|sadly not|certainly not)\b\W",
    re.IGNORECASE,
)

# Universal or absolute words: a claim using one is broader than a context that does not.
UNIVERSALS = word_list(
    """
    all every everyone everybody everything always whole entire entirely any automatically automatic
    unlimited forever permanently completely fully guaranteed same
    """
)
UNIVERSAL_PHRASES = re.compile(
    r"\ball (?:year|day|week|month) (?:round|long)\b|\ball the time\b|\bat all times\b|\bin all cases\b|"
    r"\bin every case\b|\bwithout exception\b|\bfor life\b|\bno matter\b|\beven if\b|\bregardless of\b|"
    r"\bthe same\b|\bany time\b|\banytime\b",
    re.IGNORECASE,
)

# Words that announce a computed figure ("so you'd pay £35"): numbers there may be derived, not quoted.
CALCULATION_CUES = re.compile(
    r"\bso\b|\bcomes? to\b|\bcame to\b|\bworks? out\b|\btotal\b|\bbringing\b|\bmeans?\b|\bwould\b|"
    r"\bremaining\b|\bthe rest\b|\bhalved?\b|\binstead of\b|\badds?\b|\bin your case\b|\bworth\b|"
    r"\bso far\b|\baltogether\b|\bmaking\b|\bleaving\b|\bequals?\b|\bthat is\b|\bin all\b|\bafter\b",
    re.IGNORECASE,
)
HEDGES = re.compile(r"\b(?:about|around|roughly|approximately|approx|nearly|almost|some|circa|up to)\b", re.I)


def content_words(words: list[str]) -> list[str]:
    """Canonical forms of the words that carry meaning (no stop words, fillers or bare punctuation)."""
    result = []
    for word in words:
        lowered = word.lower().replace("\u2019", "'")
        if lowered in STOPS or not re.search(r"[a-z]", lowered):
            continue
        lowered = re.sub(r"'(?:s|d|ve|ll|re|m)$", "", lowered)
        if lowered in STOPS or len(lowered) < 2:
            continue
        result.append(canonical(lowered))
    return result
