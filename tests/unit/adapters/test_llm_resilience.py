"""Retries, Retry-After, jitter, the total time budget and the circuit breaker, driven through the real
`openai` SDK against the loopback fake. Sleeps are recorded instead of slept, and the breaker's clock is a
counter the test advances, so the tests are fast and exact."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from endurance.adapters.llm.errors import LlmCircuitOpen, LlmRateLimited, LlmRejected, LlmUnavailable
from endurance.adapters.llm.resilience import CircuitBreaker, ResilientChat, RetryPolicy
from endurance.domain.errors import TransientError

from tests.unit.adapters.fake_openai_server import (
    FakeOpenAIServer,
    ok,
    rate_limited,
    server_error,
    unauthorized,
)
from tests.unit.adapters.test_llm_sdk_clients import MESSAGES, sdk_chat


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


def resilient(
    server: FakeOpenAIServer, clock: Clock, sleeps: list[float], **retry: Any
) -> tuple[ResilientChat, CircuitBreaker]:
    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.now += seconds

    policy = RetryPolicy(sleep=sleep, random=lambda: 0.5, clock=clock, **retry)
    breaker = CircuitBreaker(failure_threshold=3, reset_after=30.0, clock=clock)
    return ResilientChat(sdk_chat("openai", server), retry=policy, breaker=breaker), breaker


def test_waits_the_retry_after_of_a_429_then_succeeds(server: FakeOpenAIServer, clock: Clock) -> None:
    sleeps: list[float] = []
    chat, breaker = resilient(server, clock, sleeps)
    server.script(rate_limited("2"), ok("answer"))
    assert chat.complete(MESSAGES).text == "answer"
    assert sleeps == [2.0] and len(server.requests) == 2
    assert breaker.state == "closed" and breaker.failures == 0


def test_retry_after_in_milliseconds_is_honoured(server: FakeOpenAIServer, clock: Clock) -> None:
    sleeps: list[float] = []
    chat, _ = resilient(server, clock, sleeps)
    server.script(rate_limited("1500", header="retry-after-ms"), ok("answer"))
    chat.complete(MESSAGES)
    assert sleeps == [1.5]


def test_5xx_is_retried_with_jittered_exponential_backoff(server: FakeOpenAIServer, clock: Clock) -> None:
    sleeps: list[float] = []
    chat, _ = resilient(server, clock, sleeps, base_delay=0.4, max_attempts=3)
    server.script(server_error(500), server_error(503), ok("third time"))
    assert chat.complete(MESSAGES).text == "third time"
    # Full jitter with random() = 0.5: half of 0.4 * 2**0, then half of 0.4 * 2**1.
    assert sleeps == pytest.approx([0.2, 0.4])


def test_gives_up_after_max_attempts_with_the_last_error(server: FakeOpenAIServer, clock: Clock) -> None:
    sleeps: list[float] = []
    chat, _ = resilient(server, clock, sleeps, max_attempts=2)
    server.script(server_error(502), server_error(502), ok("never reached"))
    with pytest.raises(LlmUnavailable, match="HTTP 502"):
        chat.complete(MESSAGES)
    assert len(server.requests) == 2 and len(sleeps) == 1


def test_a_retry_after_beyond_the_limit_fails_over_at_once_and_opens_the_circuit(
    server: FakeOpenAIServer, clock: Clock
) -> None:
    sleeps: list[float] = []
    chat, breaker = resilient(server, clock, sleeps, max_retry_after=5.0)
    server.script(rate_limited("120"))
    with pytest.raises(LlmRateLimited):
        chat.complete(MESSAGES)
    assert sleeps == [] and len(server.requests) == 1
    # The provider said "not for two minutes": until then calls do not even reach it.
    assert breaker.state == "open"
    clock.now += 100
    with pytest.raises(LlmCircuitOpen):
        chat.complete(MESSAGES)
    assert len(server.requests) == 1


def test_the_total_budget_bounds_the_waiting(server: FakeOpenAIServer, clock: Clock) -> None:
    sleeps: list[float] = []
    chat, _ = resilient(server, clock, sleeps, max_attempts=5, total_budget_seconds=3.0)
    server.script(rate_limited("2"), rate_limited("2"), ok("too late"))
    with pytest.raises(LlmRateLimited):
        chat.complete(MESSAGES)
    assert sleeps == [2.0]  # a second 2 s wait would pass the 3 s budget


def test_a_rejected_key_is_not_retried_and_stops_calls(server: FakeOpenAIServer, clock: Clock) -> None:
    sleeps: list[float] = []
    chat, breaker = resilient(server, clock, sleeps)
    server.script(unauthorized())
    with pytest.raises(LlmRejected):
        chat.complete(MESSAGES)
    assert sleeps == [] and len(server.requests) == 1 and breaker.state == "open"


def test_the_circuit_opens_after_repeated_failures_and_a_trial_call_closes_it(
    server: FakeOpenAIServer, clock: Clock
) -> None:
    sleeps: list[float] = []
    chat, breaker = resilient(server, clock, sleeps, max_attempts=1)
    server.script(server_error(), server_error(), server_error())
    for _ in range(3):
        with pytest.raises(LlmUnavailable):
            chat.complete(MESSAGES)
    assert breaker.state == "open"
    with pytest.raises(LlmCircuitOpen) as caught:
        chat.complete(MESSAGES)
    assert isinstance(caught.value, TransientError) and len(server.requests) == 3

    clock.now += 30.0  # reset_after: one trial call may go through
    assert breaker.state == "half_open"
    server.script(ok("back"))
    assert chat.complete(MESSAGES).text == "back"
    assert breaker.state == "closed" and len(server.requests) == 4


def test_a_failed_trial_call_reopens_the_circuit(server: FakeOpenAIServer, clock: Clock) -> None:
    sleeps: list[float] = []
    chat, breaker = resilient(server, clock, sleeps, max_attempts=1)
    server.script(*(server_error() for _ in range(4)))
    for _ in range(3):
        with pytest.raises(LlmUnavailable):
            chat.complete(MESSAGES)
    clock.now += 31.0
    with pytest.raises(LlmUnavailable):
        chat.complete(MESSAGES)  # the trial call, which fails
    assert breaker.state == "open"
    with pytest.raises(LlmCircuitOpen):
        chat.complete(MESSAGES)
    assert len(server.requests) == 4


def test_half_open_lets_one_trial_through_at_a_time() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_after=10.0, clock=clock)
    breaker.record_failure()
    assert not breaker.allow()
    clock.now += 10.0
    assert breaker.allow() and not breaker.allow()  # the second caller waits for the trial's outcome
    breaker.record_success()
    assert breaker.allow() and breaker.allow()


def test_full_jitter_stays_under_the_exponential_cap() -> None:
    draws = iter([0.0, 0.999, 0.999, 0.999])
    policy = RetryPolicy(base_delay=1.0, max_delay=3.0, max_attempts=5, random=lambda: next(draws))
    error = LlmUnavailable("down")
    assert policy.delay(1, error) == 0.0
    assert policy.delay(2, error) == pytest.approx(1.998)
    assert policy.delay(3, error) == pytest.approx(2.997)  # capped at max_delay 3.0, not 4.0
    assert policy.delay(4, error) == pytest.approx(2.997)
    assert policy.delay(5, error) is None
