"""Chat state machine step: write the answer with citations (adds `answer` to the state)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from endurance import bootstrap
from endurance.domain.models import Answer, Chunk, Route
from endurance.pipeline.answer import answer
from endurance.services.steps import answer_step

logger = Logger()


def _answer(question: str, chunks: list[Chunk], route: Route) -> Answer:
    return answer(question, chunks, generator=bootstrap.generator(), route=route)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer_step(event, answer=_answer, jobs=bootstrap.jobs(), publisher=bootstrap.publisher())
