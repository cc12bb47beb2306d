"""Retries with jittered backoff (honouring Retry-After), a per-provider circuit breaker, and both applied
around a ``ChatModel``.

State lives in the process: a warm Lambda container remembers that a provider is down and stops paying
timeouts for it, and a cold one starts hopeful. Every wait is bounded by ``total_budget_seconds`` so the
retries of one call cannot outlast the Lambda's own timeout.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from endurance.adapters.llm.chat import ChatMessage, ChatModel, Completion
from endurance.adapters.llm.errors import LlmCircuitOpen, LlmRateLimited, LlmRejected
from endurance.domain.errors import TransientError

logger = logging.getLogger(__name__)


@dataclass
class RetryPolicy:
    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    # A Retry-After longer than this is not waited for: the call fails over to the next provider instead.
    max_retry_after: float = 10.0
    total_budget_seconds: float = 25.0
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random
    clock: Callable[[], float] = time.monotonic

    def delay(self, attempt: int, error: TransientError) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``; None when retrying is pointless."""
        if attempt >= self.max_attempts:
            return None
        retry_after = getattr(error, "retry_after", None)
        if isinstance(error, LlmRateLimited) and retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        if isinstance(error, LlmCircuitOpen):
            return None
        # "Full jitter": a uniform draw below the exponential cap spreads retrying clients apart.
        return self.random() * min(self.max_delay, self.base_delay * 2 ** (attempt - 1))


@dataclass
class CircuitBreaker:
    """Closed -> open after ``failure_threshold`` consecutive failures; open -> half-open after
    ``reset_after`` seconds (or the provider's Retry-After), when one trial call decides."""

    failure_threshold: int = 3
    reset_after: float = 30.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_until: float | None = None
    _trial_running: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def state(self) -> str:
        if self.opened_until is None:
            return "closed"
        return "open" if self.clock() < self.opened_until else "half_open"

    def allow(self) -> bool:
        with self._lock:
            state = self.state
            if state == "closed":
                return True
            if state == "half_open" and not self._trial_running:
                self._trial_running = True
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_until = None
            self._trial_running = False

    def record_failure(self, *, open_for: float | None = None) -> None:
        with self._lock:
            self.failures += 1
            trial_failed = self._trial_running
            self._trial_running = False
            if trial_failed or self.failures >= self.failure_threshold or open_for is not None:
                self.opened_until = self.clock() + max(open_for or 0.0, self.reset_after)


class ResilientChat:
    """A ``ChatModel`` with retries and a circuit breaker around another one."""

    def __init__(self, inner: ChatModel, *, retry: RetryPolicy, breaker: CircuitBreaker) -> None:
        self.inner = inner
        self.retry = retry
        self.breaker = breaker
        self.provider = inner.provider
        self.model = inner.model

    def complete(
        self, messages: list[ChatMessage], *, json_mode: bool = False, max_tokens: int | None = None
    ) -> Completion:
        started = self.retry.clock()
        attempt = 0
        while True:
            attempt += 1
            if not self.breaker.allow():
                raise LlmCircuitOpen(f"{self.provider}: circuit open after repeated failures")
            try:
                completion = self.inner.complete(messages, json_mode=json_mode, max_tokens=max_tokens)
            except LlmRejected as error:
                # A bad key will not fix itself: stop calling. A bad request is this request's fault only.
                if error.status in (401, 403):
                    self.breaker.record_failure(open_for=self.breaker.reset_after)
                raise
            except TransientError as error:
                retry_after = getattr(error, "retry_after", None)
                self.breaker.record_failure(
                    open_for=retry_after if retry_after and retry_after > self.retry.max_retry_after else None
                )
                wait = self.retry.delay(attempt, error)
                elapsed = self.retry.clock() - started
                if wait is None or elapsed + wait > self.retry.total_budget_seconds:
                    raise
                logger.warning(
                    "llm call failed, retrying",
                    extra={
                        "provider": self.provider,
                        "error": type(error).__name__,
                        "attempt": attempt,
                        "wait_s": round(wait, 3),
                    },
                )
                self.retry.sleep(wait)
                continue
            self.breaker.record_success()
            return completion
