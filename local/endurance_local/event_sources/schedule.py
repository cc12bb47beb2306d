"""EventBridge schedules, emulated: parse rate()/cron() expressions, compute fire times, fire events.

The maths is pure (`next_fire_time`), and the loop takes its clock and its wait as arguments, so both
are tested without waiting for real minutes. All times are UTC, as EventBridge's are.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from endurance_local.model import ACCOUNT_ID, REGION, ScheduleSource

MIN_YEAR = 1970
MAX_YEAR = 2199

_RATE = re.compile(r"^rate\(\s*(\d+)\s+([a-z]+)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {name: i + 1 for i, name in enumerate(_MONTH_NAMES)}
# EventBridge numbers days of the week from Sunday = 1.
_WEEKDAYS = {name: i + 1 for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class RateSchedule:
    expression: str
    period: timedelta

    def next_after(self, after: datetime, anchor: datetime | None = None) -> datetime:
        """The first `anchor + k * period` (k >= 1) strictly after `after`; anchor defaults to `after`."""
        after = _utc(after)
        start = _utc(anchor) if anchor is not None else after
        periods = max(1, int((after - start) // self.period) + 1)
        return start + periods * self.period


@dataclass(frozen=True)
class CronSchedule:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None  # None for "?"
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # None for "?"; 1 = Sunday
    years: frozenset[int]

    def _day_matches(self, day: date) -> bool:
        if self.days_of_month is not None:
            return day.day in self.days_of_month
        assert self.days_of_week is not None
        return (day.weekday() + 1) % 7 + 1 in self.days_of_week

    def next_after(self, after: datetime, anchor: datetime | None = None) -> datetime:
        """The first whole minute strictly after `after` that the expression matches."""
        start = _utc(after).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.date()
        while day.year <= MAX_YEAR:
            if day.year not in self.years:
                later = [year for year in self.years if year > day.year]
                if not later:
                    break
                day = date(min(later), 1, 1)
                continue
            if day.month not in self.months:
                day = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
                continue
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        raise ValueError(f"schedule expression {self.expression!r} never fires after {start.isoformat()}")


Schedule = RateSchedule | CronSchedule


def _value(text: str, low: int, high: int, names: dict[str, int], expression: str) -> int:
    token = text.upper()
    if token in names:
        return names[token]
    if not token.isdigit():
        raise ValueError(
            f"unsupported value {text!r} in schedule expression {expression!r} "
            "(the local runtime supports numbers, names, *, ?, lists, ranges and steps; not L, W or #)"
        )
    number = int(token)
    if not low <= number <= high:
        raise ValueError(f"value {number} out of range {low}-{high} in schedule expression {expression!r}")
    return number


def _field(
    text: str, low: int, high: int, expression: str, names: dict[str, int] | None = None
) -> frozenset[int] | None:
    """One cron field: `*`, `?`, numbers or names, lists, ranges and steps. L, W and # are not supported."""
    names = names or {}
    if text == "?":
        return None
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"bad step {part!r} in schedule expression {expression!r}")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            first_text, _, last_text = base.partition("-")
            first = _value(first_text, low, high, names, expression)
            last = _value(last_text, low, high, names, expression)
            if first > last:
                raise ValueError(f"range {base!r} runs backwards in schedule expression {expression!r}")
        else:
            first = _value(base, low, high, names, expression)
            # `5/10` means from 5 to the end of the field in steps of 10; a bare `5` is just 5.
            last = high if step_text else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


def parse_schedule(expression: str) -> Schedule:
    """Parse an EventBridge schedule expression; ValueError (naming the expression) if it cannot run."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        singular = unit.rstrip("s")
        if singular not in _RATE_UNITS or value < 1:
            raise ValueError(f"unsupported rate expression {expression!r}")
        # EventBridge rejects `rate(1 minutes)` and `rate(5 minute)`: the unit agrees with the value.
        if (value == 1) != (unit == singular):
            raise ValueError(
                f"rate expression {expression!r}: use '{singular}' for 1 and '{singular}s' for more"
            )
        return RateSchedule(text, timedelta(seconds=value * _RATE_UNITS[singular]))
    cron = _CRON.match(text)
    if not cron:
        raise ValueError(f"schedule expression {expression!r} is neither rate(...) nor cron(...)")
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ValueError(
            f"cron expression {expression!r} needs 6 fields (minutes hours day-of-month month "
            f"day-of-week year), got {len(fields)}"
        )
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ValueError(
            f"cron expression {expression!r}: exactly one of day-of-month and day-of-week must be '?'"
        )
    for name, value in (("minutes", minute), ("hours", hour), ("month", month), ("year", year)):
        if value == "?":
            raise ValueError(f"cron expression {expression!r}: '?' is not allowed in the {name} field")
    minutes = _field(minute, 0, 59, expression)
    hours = _field(hour, 0, 23, expression)
    months = _field(month, 1, 12, expression, _MONTHS)
    years = _field(year, MIN_YEAR, MAX_YEAR, expression)
    assert minutes is not None and hours is not None and months is not None and years is not None
    return CronSchedule(
        expression=text,
        minutes=minutes,
        hours=hours,
        days_of_month=_field(dom, 1, 31, expression),
        months=months,
        days_of_week=_field(dow, 1, 7, expression, _WEEKDAYS),
        years=years,
    )


def next_fire_time(expression: str, after: datetime, anchor: datetime | None = None) -> datetime:
    """When a schedule next fires strictly after `after` (UTC); rates count from `anchor` or `after`."""
    return parse_schedule(expression).next_after(after, anchor)


def scheduled_event(source: ScheduleSource, fire_time: datetime, rule_arn: str | None = None) -> bytes:
    """The payload a scheduled rule delivers: the source's Input verbatim, or a "Scheduled Event"."""
    if source.input is not None:
        return source.input.encode("utf-8")
    event: dict[str, Any] = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": _utc(fire_time).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [rule_arn] if rule_arn else [],
        "detail": {},
    }
    return json.dumps(event).encode("utf-8")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Entry:
    source: ScheduleSource
    schedule: Schedule
    anchor: datetime
    next_at: datetime


class Scheduler:
    """Fires every schedule when due. `run(wait)` loops until `wait(seconds)` returns True (stop)."""

    def __init__(
        self,
        schedules: list[tuple[ScheduleSource, Schedule]],
        fire: Callable[[ScheduleSource, datetime], None],
        log: Callable[[str], None],
        clock: Callable[[], datetime] = utc_now,
        max_sleep_s: float = 30.0,
    ) -> None:
        self._schedules = schedules
        self._fire = fire
        self._log = log
        self._clock = clock
        # Sleeps are capped so a wall-clock jump (suspend, NTP) is noticed within this long.
        self._max_sleep_s = max_sleep_s

    def run(self, wait: Callable[[float], bool]) -> None:
        now = _utc(self._clock())
        entries = [_Entry(src, schedule, now, schedule.next_after(now)) for src, schedule in self._schedules]
        if not entries:
            return
        while True:
            now = _utc(self._clock())
            for entry in entries:
                if entry.next_at <= now:
                    try:
                        self._fire(entry.source, entry.next_at)
                    except Exception as exc:  # one failing target must not stop the other schedules
                        self._log(f"schedule {entry.schedule.expression} -> {entry.source.function}: {exc}")
                    # EventBridge does not replay missed fires: the next one is the next after now.
                    entry.next_at = entry.schedule.next_after(now, entry.anchor)
            delay = min(entry.next_at for entry in entries) - now
            if wait(min(max(delay.total_seconds(), 0.0), self._max_sleep_s)):
                return
