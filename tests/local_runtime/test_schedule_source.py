"""Schedules: rate/cron fire-time maths, the scheduler loop on a fake clock, and the events it delivers."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from endurance_local.event_sources import EventSources, next_fire_time
from endurance_local.event_sources.schedule import Scheduler, parse_schedule, scheduled_event
from endurance_local.model import Deployment, ScheduleSource

from tests.support import InProcessInvoker


class FakeClock:
    """A clock that only moves when the scheduler waits; stops the loop after a simulated deadline."""

    def __init__(self, start: datetime, until: datetime) -> None:
        self.now = start
        self.until = until
        self.waits: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += timedelta(seconds=seconds)
        return self.now >= self.until


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0 12 * * ? *)", "2024-03-10T12:00:00", "2024-03-11T12:00:00"),
        ("cron(0 12 * * ? *)", "2024-03-10T11:59:59", "2024-03-10T12:00:00"),
        ("cron(0/15 * * * ? *)", "2024-03-10T10:07:30", "2024-03-10T10:15:00"),
        ("cron(*/20 9-10 * * ? *)", "2024-03-10T10:40:00", "2024-03-11T09:00:00"),
        ("cron(15 10 ? * MON-FRI *)", "2024-03-08T10:15:00", "2024-03-11T10:15:00"),  # Fri -> Mon
        ("cron(0 9 ? * 1 *)", "2024-03-10T09:00:00", "2024-03-17T09:00:00"),  # 1 = Sunday
        ("cron(0 18 ? * SAT,SUN *)", "2024-03-04T00:00:00", "2024-03-09T18:00:00"),
        ("cron(30 6 1,15 * ? *)", "2024-03-02T00:00:00", "2024-03-15T06:30:00"),
        ("cron(0 8 1 JAN,JUL ? 2025-2026)", "2024-05-01T00:00:00", "2025-01-01T08:00:00"),
        ("cron(0 0 29 2 ? *)", "2023-03-01T00:00:00", "2024-02-29T00:00:00"),
        ("cron(5-10/5 0 31 * ? *)", "2024-04-01T00:00:00", "2024-05-31T00:05:00"),
        ("rate(5 minutes)", "2024-03-10T10:07:30", "2024-03-10T10:12:30"),
        ("rate(1 hour)", "2024-03-10T10:00:00", "2024-03-10T11:00:00"),
        ("rate(2 days)", "2024-12-31T00:00:00", "2025-01-02T00:00:00"),
    ],
)
def test_next_fire_time(expression: str, after: str, expected: str) -> None:
    assert next_fire_time(expression, at(after)) == at(expected)


def test_rates_count_from_their_anchor() -> None:
    anchor = at("2024-03-10T10:00:00")
    assert next_fire_time("rate(10 minutes)", at("2024-03-10T10:25:00"), anchor) == at("2024-03-10T10:30:00")
    assert next_fire_time("rate(10 minutes)", at("2024-03-10T10:30:00"), anchor) == at("2024-03-10T10:40:00")


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "rate(3 weeks)",
        "cron(0 12 * * *)",
        "cron(0 12 * * * *)",
        "cron(0 12 ? * ? *)",
        "cron(30 2 L * ? *)",
        "cron(0 10 ? * 6#3 *)",
        "cron(0 9 15W * ? *)",
        "cron(61 * * * ? *)",
        "cron(0 10-5 * * ? *)",
        "every 5 minutes",
    ],
)
def test_unsupported_expressions_raise_a_clear_error(expression: str) -> None:
    with pytest.raises(ValueError, match=re.escape(expression)):
        parse_schedule(expression)


def test_a_schedule_that_never_fires_again_says_so() -> None:
    with pytest.raises(ValueError, match="never fires"):
        next_fire_time("cron(0 8 1 JAN ? 2025)", at("2025-06-01T00:00:00"))


def test_scheduler_fires_rate_and_cron_schedules_on_time() -> None:
    clock = FakeClock(at("2024-01-01T00:00:30"), until=at("2024-01-01T00:31:00"))
    fired: list[tuple[str, datetime]] = []
    rate = ScheduleSource("Rate", "rate(5 minutes)")
    cron = ScheduleSource("Cron", "cron(0/10 * * * ? *)")
    scheduler = Scheduler(
        [(rate, parse_schedule(rate.expression)), (cron, parse_schedule(cron.expression))],
        lambda source, when: fired.append((source.function, when)),
        log=print,
        clock=clock,
    )
    scheduler.run(clock.wait)

    assert [when for name, when in fired if name == "Rate"] == [
        at("2024-01-01T00:05:30") + timedelta(minutes=5 * i) for i in range(6)
    ]
    assert [when for name, when in fired if name == "Cron"] == [
        at("2024-01-01T00:10:00"),
        at("2024-01-01T00:20:00"),
        at("2024-01-01T00:30:00"),
    ]
    assert max(clock.waits) <= 30.0  # capped, so a wall-clock jump is noticed


def test_missed_fires_are_not_replayed_after_a_clock_jump() -> None:
    start = at("2024-01-01T00:00:00")
    clock = FakeClock(start, until=at("2024-01-01T01:02:30"))
    fired: list[datetime] = []
    source = ScheduleSource("Fn", "rate(1 minute)")

    def sleep_through_an_hour_once(seconds: float) -> bool:
        if not clock.waits:
            clock.now += timedelta(hours=1)  # the machine was suspended
        return clock.wait(seconds)

    scheduler = Scheduler(
        [(source, parse_schedule(source.expression))], lambda s, when: fired.append(when), print, clock
    )
    scheduler.run(sleep_through_an_hour_once)
    # One late fire for the missed minute, not sixty; then back on the original minute grid.
    assert fired == [at("2024-01-01T00:01:00"), at("2024-01-01T01:01:00"), at("2024-01-01T01:02:00")]


def test_fired_event_is_an_eventbridge_scheduled_event_delivered_async() -> None:
    invoker = InProcessInvoker({"Nightly": lambda event: None, "WithInput": lambda event: None})
    nightly = ScheduleSource("Nightly", "cron(0 2 * * ? *)")
    with_input = ScheduleSource("WithInput", "rate(1 day)", input='{"task": "compact"}')
    clock = FakeClock(at("2024-01-01T01:59:00"), until=at("2024-01-02T00:00:00"))

    def fire(source: ScheduleSource, when: datetime) -> None:
        invoker.invoke(source.function, scheduled_event(source, when), "Event")

    entries = [(s, parse_schedule(s.expression)) for s in (nightly, with_input)]
    Scheduler(entries, fire, print, clock).run(clock.wait)

    assert [(name, kind) for name, _, kind in invoker.calls] == [("Nightly", "Event")]
    event = invoker.calls[0][1]
    parsed = EventBridgeModel.model_validate(event)
    assert parsed.detail_type == "Scheduled Event"
    assert parsed.source == "aws.events"
    assert event["time"] == "2024-01-01T02:00:00Z"
    assert (event["account"], event["region"], event["resources"], event["detail"]) == (
        "123456789012",
        "us-east-1",
        [],
        {},
    )
    assert json.loads(scheduled_event(with_input, at("2024-01-02T01:59:00"))) == {"task": "compact"}


def test_manager_warns_about_bad_schedules_and_stops_promptly() -> None:
    logs: list[str] = []
    deployment = Deployment(
        template_path=Path("template.yaml"),
        resources={},
        schedules=[
            ScheduleSource("Good", "rate(1 hour)"),
            ScheduleSource("Bad", "cron(0 12 L * ? *)"),
            ScheduleSource("BadInput", "rate(1 hour)", input="{not json"),
            ScheduleSource("Off", "nonsense", enabled=False),
        ],
    )
    invoker = InProcessInvoker({})
    # The endpoint is never contacted: there are no SQS sources and no queue targets.
    sources = EventSources(deployment, invoker, "http://127.0.0.1:9", logs.append)
    assert len(deployment.warnings) == 2
    assert "cron(0 12 L * ? *)" in deployment.warnings[0]
    assert "BadInput" in deployment.warnings[1]
    assert all(line.startswith("warning:") for line in logs)

    sources.start()
    assert any(thread.name == "schedules" for thread in threading.enumerate())
    started = time.monotonic()
    sources.stop()
    assert time.monotonic() - started < 0.5
    assert not any(thread.name == "schedules" for thread in threading.enumerate())
    assert invoker.calls == []
