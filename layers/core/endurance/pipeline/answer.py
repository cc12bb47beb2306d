"""The answer step: hand the retrieved chunks to the configured generator, then drop dangling citations."""

from __future__ import annotations

import re
from collections.abc import Sequence

from endurance.domain.models import Answer, Chunk, Route
from endurance.ports.providers import AnswerGenerator

_CITATION = re.compile(r"\s?\[(\d+)\]")


def answer(
    question: str,
    chunks: Sequence[Chunk],
    *,
    generator: AnswerGenerator,
    route: Route = Route.RAG,
) -> Answer:
    """The generator's answer. Citations [n] it writes must index ``Answer.sources``; out-of-range ones
    are removed so a citation never points at nothing."""
    result = generator.generate(question, chunks, route=route)
    return _drop_dangling_citations(result)


def _drop_dangling_citations(result: Answer) -> Answer:
    valid = range(1, len(result.sources) + 1)
    text = _CITATION.sub(lambda m: m.group(0) if int(m.group(1)) in valid else "", result.text)
    return result if text == result.text else result.model_copy(update={"text": text})
