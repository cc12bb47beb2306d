"""The classify step: a fast, deterministic rule-based router.

Order matters: ``blocked`` is checked first (an injection wrapped in a greeting is still an injection), then
``human_review``, then ``direct`` small talk; everything else goes to ``rag``, where retrieval decides
whether the documents can answer. The patterns describe kinds of request (an instruction override, a
request to build malware, an action on "my claim"), not particular sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from endurance.domain.models import Classification, Route
from endurance.pipeline.text import STOP_WORDS, words

_I = re.IGNORECASE


@dataclass(frozen=True)
class _Rule:
    reason: str
    pattern: re.Pattern[str]
    confidence: float


def _rule(reason: str, pattern: str, confidence: float) -> _Rule:
    return _Rule(reason, re.compile(pattern, _I), confidence)


_ASK = r"(?:give|tell|show|send|share|list|reveal|provide|find|get|leak|dump|print|what(?:'s| is| are))"
_MAKE = (
    r"(?:how (?:do|can|could|would|should) (?:i|we|you|one|someone)|how to|help me|teach me|show me|"
    r"give me|tell me|explain how to|steps? (?:to|for)|step[- ]by[- ]step|instructions (?:to|for|on)|"
    r"(?:^|[.!?]\s+|\b(?:please|can you|could you|i want you to|i need you to)\s+)(?:write|create|build|"
    r"make|generate|code|develop|craft|design|draft))"
)
_BUILD = (
    r"(?:creat|build|writ|mak|deploy|spread|install|launch|develop|cod|plant|send|carr|conduct|perform|"
    r"run|craft|design|draft|generat|us|infect|releas)\w*"
)
_ATTACK_TOOL = (
    r"(?:ransomware|malware|virus|trojan|worm|keylogger|spyware|rootkit|botnet|backdoor|exploit|"
    r"zero[- ]day|ddos|denial[- ]of[- ]service|phishing|bomb|explosive|weapon)"
)
_ATTACK_ACT = (
    r"(?:hack(?:ing)? into|break(?:ing)? into|steal(?:ing)?|poison(?:ing)?|launder(?:ing)?|forg(?:e|ing)|"
    r"counterfeit(?:ing)?|crack(?:ing)? (?:a |the |their |his |her )?passwords?|fake (?:an )?invoices?)"
)
_HARMFUL = (
    rf"\b{_MAKE}\b[^.?!]{{0,60}}\b(?:{_BUILD}\b[^.?!]{{0,40}}\b{_ATTACK_TOOL}|{_ATTACK_ACT})\b|"
    r"(?:^|[.!?]\s+|\b(?:please|can you|could you|i want you to|i need you to)\s+)(?:write|create|build|"
    rf"make|generate|code|develop|craft|design|draft)\b[^.?!]{{0,30}}\b{_ATTACK_TOOL}\b|"
    rf"\b{_ATTACK_TOOL}\b[^.?!]{{0,80}}\b(?:without (?:being|anyone|the)|undetected|so that no one|"
    r"not be (?:detected|noticed|caught)|evad\w*|avoid(?:ing)? detection)"
)

_BLOCKED = [
    _rule(
        "prompt injection: asks to override the instructions",
        r"\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.?!]{0,40}\b(?:instructions?|rules|prompts?|"
        r"guidelines|guardrails|restrictions|polic(?:y|ies)|programming|directives?)\b",
        0.97,
    ),
    _rule(
        "prompt injection: asks for the system prompt or hidden configuration",
        r"\b(?:system|initial|hidden|original|developer|secret)\s+(?:prompt|instructions?|message|rules)\b",
        0.97,
    ),
    _rule(
        "jailbreak: asks to drop the assistant's restrictions",
        r"\b(?:jailbreak|developer mode|dan mode|do anything now|no (?:rules|restrictions|filters|limits)|"
        r"without (?:any )?(?:rules|restrictions|filters|censorship)|unfiltered|uncensored)\b|"
        r"\b(?:pretend|act|behave|roleplay)\b[^.?!]{0,40}\b(?:unrestricted|evil|no morals|without ethics)\b",
        0.95,
    ),
    _rule(
        "credential fishing: asks for passwords, keys or tokens",
        rf"\b{_ASK}\b[^.?!]{{0,40}}\b(?:your|his|her|their|someone's|somebody's|[a-z]+'s|"
        r"the admin(?:istrator)?|admin(?:istrator)?|root|all|staff|users'?|employees'?|other people's)\s+"
        r"(?:\w+\s+)?(?:passwords?|"
        r"passcodes?|credentials|api keys?|secret keys?|access keys?|private keys?|tokens?|login details)\b|"
        r"\b(?:passwords?|credentials|api keys?|secret keys?|access keys?)\b[^.?!]{0,40}\b(?:of|for) "
        r"(?:the )?(?:admin|administrator|root|other|all|every|another)\b",
        0.93,
    ),
    _rule(
        "credential fishing: asks to be given keys or passwords",
        r"\b(?:give|send|share|reveal|leak|dump|print|tell|show|email|forward)\s+(?:me|us)\b[^.?!]{0,25}\b"
        r"(?:api keys?|secret keys?|access keys?|private keys?|passwords?|passcodes?|credentials|tokens?|"
        r"login details)\b(?!\s+(?:rules?|polic\w*|requirements?|length|guidance|standards?))",
        0.93,
    ),
    _rule(
        "impersonation or phishing: asks to pose as someone to deceive",
        r"\b(?:pretend(?:ing)? to be|impersonat\w*|pos(?:e|ing) as|masquerad\w* as|spoof\w*)\b|"
        r"\bconfirm (?:their|your|his|her) (?:passwords?|credentials|login|bank)",
        0.93,
    ),
    _rule(
        "personal-data fishing: asks for someone's private details",
        r"\b(?:home address(?:es)?|personal (?:phone|mobile|email|address|details)|private (?:phone|mobile|"
        r"email|address|number)|date of birth|national id(?:entity)?(?: card)? numbers?|"
        r"social security numbers?|passport numbers?|medical (?:records?|history)|bank (?:details|account)|"
        r"(?:credit|debit) card (?:numbers?|details))\b[^.?!]{0,40}\b(?:of|for|belonging to)\b|"
        rf"\b{_ASK}\b[^.?!]{{0,40}}\b(?:his|her|their|someone's|somebody's|[a-z]+'s|all (?:staff|employees|"
        r"citizens|users|customers)'?)\s+(?:home address|personal (?:phone|mobile|email)|date of birth|"
        r"salary|medical|bank|national id|passport)",
        0.9,
    ),
    _rule(
        "harmful request: asks how to attack, harm or defraud",
        _HARMFUL,
        0.95,
    ),
    _rule(
        "harmful request: asks to evade detection or security controls",
        r"\b(?:without (?:the (?:soc|security team|it team)|anyone|being) "
        r"(?:noticing|detected|caught|seeing)|"
        r"(?:evade|bypass|disable|get around) (?:the )?(?:antivirus|edr|soc|firewall|mfa|"
        r"multi-factor|logging|monitoring|security controls?|detection))\b",
        0.93,
    ),
]

_DECISION_VERBS = (
    r"(?:accept|take|stay|quit|resign|leave|move|choose|pick|go (?:with|for)|sign|sue|report|apply|"
    r"retire|switch|join|buy|sell|invest|tell|hire|fire|trust)"
)

_HUMAN_REVIEW = [
    _rule(
        "personal decision: asks the assistant to decide for the user",
        rf"\bshould (?:i|we)\b[^.?!]{{0,30}}\b{_DECISION_VERBS}\b|\bshould (?:i|we)\b[^.?!]*\bor (?:not|stay|"
        r"should|keep|leave)\b|\bwhat (?:should|would) (?:i|we) do\b(?! if| when| in case| after| about)|"
        r"\bwhat would you do\b|"
        r"\b(?:is it|would it be) (?:a )?(?:good|wise|better) (?:idea )?for me\b|\bhelp me decide\b",
        0.85,
    ),
    _rule(
        "legal advice on an individual case",
        r"\b(?:(?:my|our) (?:specific |particular |own |individual )?"
        r"(?:case|situation|dispute|lawsuit|claim)\b"
        r"[^.?!]{0,60}\b(?:legal|lawyer|court|sue|tribunal|advi[cs]e)|(?:legal(?:ly)?|lawyer|solicitor|sue|"
        r"court|tribunal|liable|liability)\b[^.?!]{0,80}\b(?:my|our) (?:specific |particular |own )?(?:case|"
        r"situation|contract|dispute|employer|claim))\b|\b(?:can|could|may) (?:i|we) (?:legally|lawfully)\b|"
        r"\b(?:advi[cs]e|advice) (?:me|us|on (?:my|our))\b",
        0.85,
    ),
    _rule(
        "complaint: the user wants to complain",
        r"\b(?:i|we)(?:'d| would)? (?:like|want|wish|need|intend|am going|are going|have decided)(?: to)? "
        r"(?:make|file|lodge|raise|submit|register) (?:a |an )?(?:formal |official )?"
        r"(?:complaint|grievance)\b|"
        r"\b(?:i|we) (?:am|are|'m|'re) (?:making|filing|lodging|raising) (?:a |an )?(?:formal |official )?"
        r"(?:complaint|grievance)\b|\b(?:i|we) (?:formally )?complain about\b|"
        r"\b(?:i|we) (?:am|are|'m|'re)? ?(?:complaining|furious|disgusted|appalled|outraged)\b|"
        r"\bthis is (?:a |an )?(?:formal |official )?complaint\b|\b(?:treated|spoke to|spoken to) (?:me|us) "
        r"(?:badly|rudely|like)\b|\bwas (?:rude|abusive|unhelpful) to (?:me|us)\b",
        0.85,
    ),
    _rule(
        "asks for an action the assistant cannot take",
        r"(?:^|[.!?]\s+|\b(?:please|can you|could you|would you|will you|i want you to|i need you to|"
        r"go ahead and|i'd like you to)\s+)"
        r"(?:approve|reject|cancel|terminate|refund|reimburse|pay|reset|unlock|delete|erase|remove|update|"
        r"change|amend|book|reserve|process|escalate|grant|revoke|extend|renew|transfer|sign off|"
        r"authori[sz]e|waive|expedite|fast-track)\b (?:me |for me )?(?:(?:my|our) (?:own )?\w+|(?:this|the) "
        r"(?:claim|contract|account|request|application|booking|invoice|payment|expenses?|leave|access|password|"
        r"data|order|subscription|ticket|appeal|case|refund|licen[cs]e|permit|reimbursement|advance)s?)\b",
        0.85,
    ),
]

_SMALL_TALK = re.compile(
    r"\b(?:hi|hello|hey|hiya|howdy|greetings|yo|good (?:morning|afternoon|evening|night|day)|"
    r"thanks?(?: you)?(?: (?:so|very) much| a lot)?|thx|ty|cheers|much appreciated|appreciate it|"
    r"(?:for|with) (?:your|the|all the|all your) (?:help|assistance|time|answers?|support)|"
    r"bye|goodbye|good ?bye|see you|see ya|farewell|take care|for now|later|"
    r"how are you(?: doing)?|how's it going|how are things|what's up|nice to meet you|"
    r"who are you|what are you|what can you do|what do you do|are you (?:a )?(?:bot|robot|human|real)|"
    r"you're (?:great|awesome|helpful)|great|awesome|perfect|ok(?:ay)?|cool|nice|lovely|sorry|"
    r"today|there|again|all|everyone|buddy|friend|mate|bot|assistant|well|doing|too|very|much|so)\b",
    _I,
)


def classify(question: str) -> Classification:
    text = " ".join(question.split())
    for route, rules in ((Route.BLOCKED, _BLOCKED), (Route.HUMAN_REVIEW, _HUMAN_REVIEW)):
        for rule in rules:
            if rule.pattern.search(text):
                return Classification(route=route, confidence=rule.confidence, reason=rule.reason)
    if _is_small_talk(text):
        return Classification(route=Route.DIRECT, confidence=0.9, reason="greeting or small talk")
    if not [w for w in words(text) if w not in STOP_WORDS]:
        return Classification(route=Route.DIRECT, confidence=0.6, reason="no question content to look up")
    return Classification(
        route=Route.RAG, confidence=0.75, reason="a question the documents may answer (retrieval decides)"
    )


def _is_small_talk(text: str) -> bool:
    """True when nothing but small-talk phrases is left once those phrases are removed."""
    if not _SMALL_TALK.search(text):
        return False
    rest = _SMALL_TALK.sub(" ", text)
    return not [w for w in words(rest) if w not in STOP_WORDS]
