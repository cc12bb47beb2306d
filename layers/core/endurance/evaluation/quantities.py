"""Numbers with their meaning: money, percentages and fractions, durations, times of day, dates, counts.

Faithfulness needs numbers to match *exactly* but not *literally*: "£5,000" = "£5000", "six months" =
"6 months", "half" = "50%", "48 hours" = "2 days", "every other week" is not a number. And an answer may
compute a figure the contexts do not state ("£32 halved is £16"), so ``derivable`` checks whether a figure
follows from the others by one or two arithmetic steps with compatible units (money x count, money x %,
date + duration, time - duration, ...).
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MONTHS = {
    name: index
    for index, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|" \
         r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"

_UNITS_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS_WORDS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
               "eighty": 80, "ninety": 90}
_NUMBER_WORD = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|four|five|six|"
    r"seven|eight|nine))?|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|a hundred|one hundred|a dozen|a|an|a single)"
)
_DIGITS = r"\d(?:[\d,]*\d)?(?:\.\d+)?"
_NUM = rf"(?:{_DIGITS}|{_NUMBER_WORD})"
_FRACTION_WORDS = {
    "half": 0.5, "a half": 0.5, "one half": 0.5, "a third": 1 / 3, "one third": 1 / 3, "one-third": 1 / 3,
    "two-thirds": 2 / 3, "two thirds": 2 / 3, "a quarter": 0.25, "one quarter": 0.25, "one-quarter": 0.25,
    "three-quarters": 0.75, "three quarters": 0.75, "a fifth": 0.2, "one-fifth": 0.2, "two-fifths": 0.4,
    "three-fifths": 0.6, "four-fifths": 0.8, "a tenth": 0.1, "one-tenth": 0.1, "halves": 0.5, "halved": 0.5,
    "twice": 2.0, "double": 2.0, "doubled": 2.0, "triple": 3.0, "tripled": 3.0,
}
# Hours per unit. Working/business time is kept apart: "3 working days" is not "3 days".
_DURATION_HOURS = {
    "second": 1 / 3600, "minute": 1 / 60, "min": 1 / 60, "mins": 1 / 60, "hour": 1.0, "hr": 1.0, "hrs": 1.0,
    "day": 24.0, "night": 24.0, "week": 168.0, "fortnight": 336.0, "month": 730.5, "year": 8766.0,
}
_MEASURE_UNITS = (
    "km", "kilometres", "kilometers", "kilometre", "kilometer", "mile", "miles", "metres", "meters", "metre",
    "meter", "m", "mm", "cm", "kg", "kilograms", "g", "tonnes", "tonne", "tons", "ton", "gb", "mb", "tb",
    "db", "mph", "km/h", "hectares", "hectare", "ha", "litres", "liters", "megalitres", "kwh", "mw", "°c",
)
_MEASURE_CANON = {"kilometres": "km", "kilometers": "km", "kilometre": "km", "kilometer": "km",
                  "miles": "mile", "metres": "m", "meters": "m", "metre": "m", "meter": "m",
                  "tonne": "tonnes", "tons": "tonnes", "ton": "tonnes", "kilograms": "kg",
                  "hectare": "hectares", "ha": "hectares", "liters": "litres"}

_DATE_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})(?:,?\s+(\d{{4}}))?\b")
_DATE_MDY = re.compile(rf"\b({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,\s*(\d{{4}}))?\b")
_DATE_MY = re.compile(rf"\b({_MONTH})\s+(\d{{4}})\b")
_DATE_NUMERIC = re.compile(r"(?<![\w/.-])(\d{1,2})/(\d{1,2})/(\d{4})(?![\w/])")
_END_OF_MONTH = re.compile(rf"\bend of\s+({_MONTH})(?:\s+(\d{{4}}))?", re.IGNORECASE)
_MONTH_ALONE = re.compile(
    r"\b(January|February|March|April|June|July|August|September|October|November|December)\b"
)
_FISCAL_YEAR = re.compile(r"(?<![\w/])((?:19|20)\d{2})\s?[/\u2013-]\s?(\d{2}|(?:19|20)\d{2})(?![\w/-])")
_YEAR = re.compile(r"(?<![\w£$€.,/-])((?:19|20)\d{2})(?![\w%/]|,\d|\.\d)")
_TIME = re.compile(
    r"(?<![\w:.])(\d{1,2})(?::|\.)(\d{2})\s*([ap])\.?m\b\.?|(?<![\w:.])(\d{1,2}):(\d{2})(?![\d:])|"
    r"(?<![\w:.])(\d{1,2})\s*([ap])\.?m\b\.?|\b(noon|midday|midnight)\b",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"(C\$|US\$|A\$|NZ\$|\$|£|€)\s?(\d(?:[\d,]*\d)?(?:\.\d+)?)(\s?(?:million|billion|bn|m|k|thousand)\b)?|"
    r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)p\b|"
    r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)\s?(?:(million|billion|thousand)\s)?(pounds|dollars|euros|pence)\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(
    rf"(?<![\w.])({_DIGITS}|{_NUMBER_WORD})\s?(?:%|per\s?cent\b|percent\b|percentage points?\b)",
    re.IGNORECASE,
)
_FRACTION = re.compile(r"(?<![\w/.-])(\d{1,3})/(\d{1,3})(?:st|nd|rd|th)?(?![\w/])")
_FRACTION_WORD = re.compile(
    r"\b(" + "|".join(sorted((re.escape(k) for k in _FRACTION_WORDS), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_DURATION = re.compile(
    rf"(?<![\w.])({_NUM})(?:\s|-)(?:(working|business|calendar|clear|school)\s|-)?"
    r"(seconds?|minutes?|mins?|hours?|hrs?|days?|nights?|weeks?|fortnights?|months?|years?)(?:'s?|\u2019s?)?\b",
    re.IGNORECASE,
)
_MEASURE = re.compile(
    rf"(?<![\w.])({_DIGITS})\s?("
    + "|".join(re.escape(u) for u in sorted(_MEASURE_UNITS, key=len, reverse=True))
    + r")(?![\w])",
    re.IGNORECASE,
)
_PLAIN = re.compile(rf"(?<![\w.£$€/:-])({_DIGITS})(?![\w/]|[.:-]\d)|\b({_NUMBER_WORD[3:-1]})\b",
                    re.IGNORECASE)
_APPROX = re.compile(r"(?:about|around|roughly|approximately|approx\.?|nearly|almost|some|circa|an estimated|"
                     r"just over|just under|over|under|up to|more than|less than)\s*$", re.IGNORECASE)
_NOT_COUNT_WORDS = {"a", "an", "a single", "one"}
_SCALES = {"million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "k": 1e3, "thousand": 1e3}


@dataclass(frozen=True)
class Quantity:
    value: float
    dim: str  # money | ratio | duration | workduration | time | date | month | year | count | unit:<u>
    text: str
    start: int
    end: int
    approx: bool = False
    date: tuple[int | None, int | None, int | None] = field(default=(None, None, None))  # (year, month, day)

    @property
    def key(self) -> str:
        if self.dim == "date":
            return "date:" + "-".join("?" if part is None else str(part) for part in self.date)
        return f"{self.dim}:{round(self.value, 6)}"


def _number(text: str) -> float | None:
    text = text.strip().lower().replace("-", " ")
    if not text:
        return None
    if text[0].isdigit():
        try:
            return float(text.replace(",", ""))
        except ValueError:
            return None
    if text in ("a", "an", "a single"):
        return 1.0
    if text in ("a hundred", "one hundred"):
        return 100.0
    if text == "a dozen":
        return 12.0
    parts = text.split()
    total = 0.0
    for part in parts:
        if part in _TENS_WORDS:
            total += _TENS_WORDS[part]
        elif part in _UNITS_WORDS:
            total += _UNITS_WORDS[part]
        else:
            return None
    return total


def _month(name: str) -> int:
    return MONTHS[name.lower().rstrip(".")]


def extract(text: str) -> list[Quantity]:
    """Every quantity in ``text``, left to right; each character belongs to at most one quantity."""
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    def add(quantity: Quantity) -> None:
        if free(quantity.start, quantity.end):
            found.append(quantity)
            taken.append((quantity.start, quantity.end))

    def approx_before(start: int) -> bool:
        return bool(_APPROX.search(text[max(0, start - 20) : start]))

    for match in _END_OF_MONTH.finditer(text):
        month = _month(match.group(1))
        year = int(match.group(2)) if match.group(2) else None
        day = calendar.monthrange(year or 2025, month)[1]
        add(Quantity(0, "date", match.group(0), match.start(), match.end(), date=(year, month, day)))
    for match in _DATE_DMY.finditer(text):
        day, month = int(match.group(1)), _month(match.group(2))
        if not 1 <= day <= 31 or (match.group(2).lower() == "may" and not match.group(3) and day > 31):
            continue
        year = int(match.group(3)) if match.group(3) else None
        add(Quantity(0, "date", match.group(0), match.start(), match.end(), date=(year, month, day)))
    for match in _DATE_MDY.finditer(text):
        day = int(match.group(2))
        if 1 <= day <= 31 and (match.group(3) or match.group(1)[0].isupper()):
            year = int(match.group(3)) if match.group(3) else None
            add(Quantity(0, "date", match.group(0), match.start(), match.end(),
                         date=(year, _month(match.group(1)), day)))
    for match in _DATE_MY.finditer(text):
        add(Quantity(0, "date", match.group(0), match.start(), match.end(),
                     date=(int(match.group(2)), _month(match.group(1)), None)))
    for match in _DATE_NUMERIC.finditer(text):
        day, month, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if 1 <= day <= 31 and 1 <= month <= 12:
            add(Quantity(0, "date", match.group(0), match.start(), match.end(), date=(year, month, day)))
    for match in _FISCAL_YEAR.finditer(text):
        first, second = match.group(1), match.group(2)
        if len(second) == 2 and int(second) != (int(first) + 1) % 100:
            continue
        add(Quantity(float(first), "year", match.group(0), match.start(), match.end()))
    for match in _TIME.finditer(text):
        if match.group(8):
            minutes = 0 if match.group(8).lower() == "midnight" else 12 * 60
        elif match.group(1):
            hour = int(match.group(1)) % 12 + (12 if match.group(3).lower() == "p" else 0)
            minutes = hour * 60 + int(match.group(2))
        elif match.group(4):
            hour, minute = int(match.group(4)), int(match.group(5))
            if hour > 24 or minute > 59:
                continue
            minutes = hour * 60 + minute
        else:
            minutes = (int(match.group(6)) % 12 + (12 if match.group(7).lower() == "p" else 0)) * 60
        add(Quantity(float(minutes), "time", match.group(0), match.start(), match.end()))
    for match in _MONEY.finditer(text):
        if match.group(2):
            value = float(match.group(2).replace(",", ""))
            scale = (match.group(3) or "").strip().lower()
        elif match.group(4):
            value, scale = float(match.group(4).replace(",", "")) / 100, ""
        else:
            value = float(match.group(5).replace(",", ""))
            scale = (match.group(6) or "").lower()
            if match.group(7).lower() == "pence":
                value /= 100
        value *= _SCALES.get(scale, 1)
        add(Quantity(value, "money", match.group(0).strip(), match.start(), match.start() + len(
            match.group(0).rstrip()), approx=approx_before(match.start())))
    for match in _PERCENT.finditer(text):
        amount = _number(match.group(1))
        if amount is not None:
            add(Quantity(amount / 100, "ratio", match.group(0), match.start(), match.end(),
                         approx=approx_before(match.start())))
    for match in _YEAR.finditer(text):
        add(Quantity(float(match.group(1)), "year", match.group(0), match.start(), match.end()))
    for match in _DURATION.finditer(text):
        amount = _number(match.group(1))
        if amount is None:
            continue
        unit = match.group(3).lower().rstrip("s") if match.group(3).lower() not in ("hrs", "mins") else \
            match.group(3).lower()[:-1]
        hours = _DURATION_HOURS.get(unit, _DURATION_HOURS.get(unit.rstrip("s"), 0.0))
        kind = (match.group(2) or "").lower()
        dim = "workduration" if kind in ("working", "business", "school") else "duration"
        add(Quantity(amount * hours, dim, match.group(0), match.start(), match.end(),
                     approx=approx_before(match.start())))
    for match in _MEASURE.finditer(text):
        unit = match.group(2).lower()
        add(Quantity(float(match.group(1).replace(",", "")), "unit:" + _MEASURE_CANON.get(unit, unit),
                     match.group(0), match.start(), match.end(), approx=approx_before(match.start())))
    for match in _FRACTION.finditer(text):
        numerator, denominator = int(match.group(1)), int(match.group(2))
        if denominator:
            add(Quantity(numerator / denominator, "ratio", match.group(0), match.start(), match.end()))
    for match in _FRACTION_WORD.finditer(text):
        add(Quantity(_FRACTION_WORDS[match.group(1).lower()], "ratio", match.group(0), match.start(),
                     match.end()))
    for match in _MONTH_ALONE.finditer(text):
        add(Quantity(float(_month(match.group(1))), "month", match.group(0), match.start(), match.end()))
    for match in _PLAIN.finditer(text):
        raw = match.group(1) or match.group(2)
        if raw.lower() in _NOT_COUNT_WORDS:
            continue
        value = _number(raw)
        if value is None or _inside_identifier(text, match.start(), match.end()):
            continue
        add(Quantity(value, "count", raw, match.start(), match.start() + len(raw),
                     approx=approx_before(match.start())))
    found.sort(key=lambda q: q.start)
    return found


def _inside_identifier(text: str, start: int, end: int) -> bool:
    """Digits that are part of a code ("09-01-28", "RV3 2HN", "HC/2024/117", "07700 900265")."""
    before = text[max(0, start - 1) : start]
    after = text[end : end + 2]
    if before.isalpha() or (after[:1].isalpha() and after[:1].upper() == after[:1] and len(after) > 1
                             and after[1:2].isalpha() and after[1:2].isupper()):
        return True
    return bool(re.match(r"[-/]\d", after))


def same_value(answer: Quantity, context: Quantity) -> bool:
    """The answer's quantity states exactly what the context's does (units and rounding considered)."""
    if answer.dim == "date" or context.dim == "date":
        return _same_date(answer, context)
    if answer.dim != context.dim and "count" not in (answer.dim, context.dim):
        if {answer.dim, context.dim} <= {"duration", "workduration"}:
            return False
        if {answer.dim, context.dim} == {"month", "date"}:
            return False
        return False
    if answer.dim == "count" and context.dim in ("time", "date", "month"):
        return False
    if context.dim == "count" and answer.dim in ("time", "month", "ratio"):
        return False
    other = context.value
    if answer.dim == "count" and context.dim in ("duration", "workduration"):
        other = _duration_amount(context)
    if context.dim == "count" and answer.dim in ("duration", "workduration"):
        return _close(_duration_amount(answer), other, answer.approx)
    return _close(answer.value, other, answer.approx or context.approx, answer.dim)


def _duration_amount(quantity: Quantity) -> float:
    match = re.match(rf"\s*({_NUM})", quantity.text, re.IGNORECASE)
    amount = _number(match.group(1)) if match else None
    return amount if amount is not None else quantity.value


def _same_date(answer: Quantity, context: Quantity) -> bool:
    if answer.dim == "month" and context.dim == "date":
        return context.date[1] == int(answer.value)
    if answer.dim == "date" and context.dim == "month":
        return answer.date[0] is None and answer.date[2] is None and answer.date[1] == int(context.value)
    if answer.dim != "date" or context.dim != "date":
        return False
    for mine, theirs in zip(answer.date, context.date, strict=True):
        if mine is not None and theirs is not None and mine != theirs:
            return False
        if mine is not None and theirs is None and mine is not answer.date[0]:
            return False  # the answer names a day (or month) the context leaves open
    return True


def _close(left: float, right: float, approx: bool, dim: str = "") -> bool:
    if left == right:
        return True
    scale = max(abs(left), abs(right))
    if dim == "ratio":
        # Percentages and fractions: "1/3" = "33.3%", but "1/49" is not "1/54".
        return abs(left - right) <= (0.02 * scale if approx else max(5e-4, 0.002 * scale))
    if approx:
        return abs(left - right) <= max(0.011, 0.02 * scale)
    # Rounding to the penny/cent of a displayed figure.
    return abs(left - right) <= max(0.0051, 1e-6 * scale)


# --- derivation -------------------------------------------------------------------------------------------

_SCALAR = ("count", "ratio")


def _combine(a: tuple[float, str], b: tuple[float, str]) -> Iterable[tuple[float, str]]:
    (x, xd), (y, yd) = a, b
    if "units" in (xd, yd):
        # A number of days/months only multiplies a price quoted per day/month.
        if {xd, yd} == {"units", "money"}:
            yield x * y, "money"
        return
    if xd == yd or (xd in _SCALAR and yd in _SCALAR):
        dim = xd if xd == yd else "count"
        yield x + y, dim
        yield x - y, dim
    if yd in _SCALAR:
        yield x * y, xd
        if y:
            yield x / y, xd
        if yd == "ratio" and xd not in _SCALAR:
            yield x * (1 - y), xd
            yield x * (1 + y), xd
    if xd == yd and y:
        yield x / y, "count"
        yield x / y, "ratio"


class Derivations:
    """Values reachable from a pool of quantities in one step, for fast "is t reachable in <= 2?" checks."""

    def __init__(self, pool: Sequence[Quantity]) -> None:
        numeric = {(q.value, q.dim if q.dim != "workduration" else "duration") for q in pool
                   if q.dim not in ("date", "time", "month", "year")}
        # "seven days" at "£2.25 a day" is 7 x £2.25: a duration also counts as a number of its own units.
        numeric |= {(_duration_amount(q), "units") for q in pool if q.dim in ("duration", "workduration")}
        self.base = sorted(numeric)
        self.by_dim: dict[str, list[float]] = {}
        for a, b in itertools.permutations(self.base, 2):
            for value, dim in _combine(a, b):
                self.by_dim.setdefault(dim, []).append(value)
        for values in self.by_dim.values():
            values.sort()
        self.dates = [q for q in pool if q.dim == "date" and q.date[1] and q.date[2]]
        self.times = [q for q in pool if q.dim == "time"]
        self.durations = [q for q in pool if q.dim in ("duration", "workduration")]

    def _has(self, dim: str, value: float, approx: bool) -> bool:
        values = self.by_dim.get(dim, [])
        if dim == "ratio":
            tolerance = 0.02 * abs(value) if approx else max(5e-4, 0.002 * abs(value))
        else:
            tolerance = max(0.011, 0.02 * abs(value)) if approx else max(0.0051, 1e-6 * abs(value))
        index = bisect.bisect_left(values, value - tolerance)
        return index < len(values) and values[index] <= value + tolerance

    def reaches(self, target: Quantity) -> bool:
        if target.dim == "date":
            return self._reaches_date(target)
        if target.dim == "time":
            return any(abs(t.value + sign * d.value * 60 - target.value) < 0.5
                       for t in self.times for d in self.durations for sign in (1, -1))
        if target.dim in ("month", "year"):
            return False
        dim = "duration" if target.dim == "workduration" else target.dim
        value = target.value
        dims = [dim] if dim != "count" else ["count", "ratio"]
        for d in dims:
            if self._has(d, value, target.approx):
                return True
        # Two steps: target = (pair result) op (pool value).
        for other, other_dim in self.base:
            for d in dims:
                if other_dim == d and (self._has(d, value - other, target.approx)
                                       or self._has(d, value + other, target.approx)):
                    return True
                if other_dim in _SCALAR and other and self._has(d, value / other, target.approx):
                    return True
                if other_dim == d and other and d not in _SCALAR and (
                        self._has("count", value / other, target.approx)
                        or self._has("ratio", value / other, target.approx)):
                    return True
        return False

    def _reaches_date(self, target: Quantity) -> bool:
        year, month, day = target.date
        if month is None or day is None:
            return False
        for base in self.dates:
            start = dt.date(base.date[0] or year or 2025, base.date[1] or 1, base.date[2] or 1)
            steps = [_shift(start, d) for d in self.durations]
            candidates = steps + [_shift(s, d) for s in steps for d in self.durations]
            for candidate in candidates:
                if candidate.month == month and candidate.day == day and year in (None, candidate.year):
                    return True
        return False


def _shift(start: dt.date, duration: Quantity) -> dt.date:
    text = duration.text.lower()
    amount = _duration_amount(duration)
    if "month" in text:
        months = start.month - 1 + int(amount)
        year = start.year + months // 12
        month = months % 12 + 1
        return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
    if "year" in text:
        return start.replace(year=start.year + int(amount))
    return start + dt.timedelta(hours=duration.value)
