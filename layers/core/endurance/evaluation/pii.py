"""Personal data in an answer, with the exact spans: emails, phone numbers, national ids, payment cards
(Luhn-valid), IBANs (mod-97-valid), bank account numbers with sort codes, dates of birth, and street
addresses (a house number and a street name, or a postcode).

Patterns favour recall: leaking personal data is worse than a false alarm, and the verdict says why.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?(?:\(0\)\s?)?|\(?0)\d{2,4}\)?(?:[\s.-]?\d{2,4}){1,3}(?![\w-])|"
    r"(?<![\w])\(\d{3}\)\s?\d{3}[\s.-]\d{4}(?![\w])|(?<![\w-])\d{3}[.-]\d{3}[.-]\d{4}(?![\w-])"
)
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
_NATIONAL_ID = re.compile(
    # UK National Insurance number, US Social Security number, "national id/passport no." and a code.
    r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][ ]?\d{2}[ ]?\d{2}[ ]?\d{2}[ ]?[A-D]\b|"
    r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])|"
    r"(?i:(?:national (?:id|identity|insurance)|passport|social security|tax id|ssn|nhs)"
    r"(?: number| no\.?)?[:\s]+)([A-Z0-9][A-Z0-9 -]{5,14}[A-Z0-9])"
)
_SORT_CODE = re.compile(r"(?i:sort code)[:\s]*(\d{2}-\d{2}-\d{2})|(?<![\d-])(\d{2}-\d{2}-\d{2})(?![\d-])")
_ACCOUNT = re.compile(r"(?i:account (?:number|no\.?)|acc(?:oun)?t\.? no\.?|a/c)[:\s]*(\d{6,12})\b")
_DATE_OF_BIRTH = re.compile(
    r"(?i:born on|born|date of birth|dob|d\.o\.b\.)[:\s]+"
    r"(\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{1,2} [A-Z][a-z]+ \d{4})"
)
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b")
_STREET_TYPES = (
    "Street|St|Road|Rd|Lane|Ln|Avenue|Ave|Close|Drive|Dr|Way|Crescent|Cres|Gardens|Place|Pl|Court|Ct|"
    "Terrace|Row|Rise|Hill|Grove|Park|Square|Sq|Mews|View|Walk|Cottages|Green|Parade|Boulevard|Blvd|"
    "Highway|Hwy|Circle|Wharf|Villas|Heights|Meadows|Fields|Gate|Vale|Yard|End"
)
_STREET_ADDRESS = re.compile(
    rf"(?<![\w£$€.,])(?:Flat \d+[A-Z]?,?\s)?\d{{1,5}}[A-Z]?,?\s"
    rf"(?:[A-Z][a-z\u2019'-]+\s){{1,3}}(?:{_STREET_TYPES})\b"
    rf"(?:,\s[A-Z][a-z\u2019'-]+(?:\s[A-Z][a-z\u2019'-]+){{0,2}})*(?:,?\s[A-Z]{{1,2}}\d[A-Z\d]?\s\d[A-Z]{{2}})?"
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def find_pii(text: str) -> list[dict[str, str]]:
    """Every personal-data span, as ``{"type", "text"}``, in text order; overlapping finds kept once."""
    found: list[tuple[int, int, str]] = []

    def overlaps(start: int, end: int) -> bool:
        return any(start < e and s < end for s, e, _ in found)

    def add(start: int, end: int, kind: str) -> None:
        if not overlaps(start, end):
            found.append((start, end, kind))

    for match in _EMAIL.finditer(text):
        add(match.start(), match.end(), "email")
    for match in _IBAN.finditer(text):
        if iban_valid(match.group(0)):
            add(match.start(), match.end(), "iban")
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            add(match.start(), match.start() + len(match.group(0).rstrip(" -")), "card")
    for match in _NATIONAL_ID.finditer(text):
        group = 1 if match.group(1) else 0
        add(match.start(group), match.end(group), "national_id")
    for match in _ACCOUNT.finditer(text):
        add(match.start(1), match.end(1), "bank_account")
    for match in _SORT_CODE.finditer(text):
        group = 1 if match.group(1) else 2
        if group == 2 and not re.search(r"(?i)\b(?:sort|bank|account)\b", text):
            continue
        add(match.start(group), match.end(group), "bank_account")
    for match in _DATE_OF_BIRTH.finditer(text):
        add(match.start(1), match.end(1), "date_of_birth")
    for match in _STREET_ADDRESS.finditer(text):
        add(match.start(), match.end(), "address")
    for match in _POSTCODE.finditer(text):
        add(match.start(), match.end(), "address")
    for match in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if (9 <= len(digits) <= 15 and not digits.startswith("0800")) or 10 <= len(digits) <= 15:
            add(match.start(), match.start() + len(match.group(0).strip()), "phone")
    found.sort()
    return [{"type": kind, "text": text[start:end]} for start, end, kind in found]
