"""Failover: try each generator of a chain in order until one answers.

A provider that is rate limited past its retries, down, timing out, misconfigured or behind an open
circuit hands the question to the next one (typically Groq -> an OpenAI-compatible endpoint -> the offline
extractive generator). If every one fails, the error says what each did; it is transient when any of them
was, so the state machine retries the step later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from endurance.adapters.llm.errors import LlmRejected, LlmUnavailable
from endurance.domain.errors import EnduranceError, TransientError
from endurance.domain.models import Answer, Chunk, Route
from endurance.ports.providers import AnswerGenerator

logger = logging.getLogger(__name__)


class FallbackGenerator:
    def __init__(self, generators: Sequence[AnswerGenerator]) -> None:
        if not generators:
            raise ValueError("a fallback chain needs at least one generator")
        self.generators = list(generators)
        self.name = " -> ".join(generator.name for generator in self.generators)

    def generate(self, question: str, chunks: Sequence[Chunk], *, route: Route) -> Answer:
        started = time.perf_counter()
        failures: list[tuple[str, EnduranceError]] = []
        for generator in self.generators:
            try:
                answer = generator.generate(question, chunks, route=route)
            except EnduranceError as error:
                logger.warning(
                    "generator failed, failing over",
                    extra={"generator": generator.name, "error": type(error).__name__, "detail": str(error)},
                )
                failures.append((generator.name, error))
                continue
            # The user waited for the failed attempts too.
            return answer.model_copy(update={"latency_ms": round((time.perf_counter() - started) * 1000, 1)})
        summary = "; ".join(f"{name}: {type(error).__name__}: {error}" for name, error in failures)
        if any(isinstance(error, TransientError) for _, error in failures):
            raise LlmUnavailable(f"every provider failed: {summary}") from failures[-1][1]
        raise LlmRejected(f"every provider failed: {summary}") from failures[-1][1]
