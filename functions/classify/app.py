"""Chat state machine step: classify the question (adds `classification` to the state).

A follow-up in a session is first rewritten into a standalone question from the earlier turns.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from endurance import bootstrap, providers
from endurance.services.steps import classify_step

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = bootstrap.settings()
    return classify_step(
        event,
        classify=providers.build_classifier(settings),
        jobs=bootstrap.jobs(),
        publisher=bootstrap.publisher(),
        sessions=bootstrap.sessions() if settings.sessions_table else None,
        condense=providers.build_condenser(settings),
        max_turns=settings.conversation_turns,
    )
