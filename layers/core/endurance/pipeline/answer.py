"""The answer step: hand the retrieved chunks to the configured generator, then drop dangling citations."""

from __future__ import annotations

import re
from collections.abc import Sequence

from endurance.domain.errors import TransientError
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
    are removed so a citation never points at nothing. Provider failures that are worth retrying leave as
    TransientError; the rest (PermanentError subclasses) go to the state machine's Catch as they are."""
    try:
        result = generator.generate(question, chunks, route=route)
    except TransientError as error:
        if type(error) is TransientError:
            raise
        # Step Functions matches Retry by the exact error name, and the state machine lists TransientError:
        # re-raise under that name, keeping the provider's own error in the message and the chain.
        raise TransientError(f"{type(error).__name__}: {error}") from error
    return _drop_dangling_citations(result)


def _drop_dangling_citations(result: Answer) -> Answer:
    valid = range(1, len(result.sources) + 1)
    text = _CITATION.sub(lambda m: m.group(0) if int(m.group(1)) in valid else "", result.text)
    return result if text == result.text else result.model_copy(update={"text": text})
