"""Chat state machine step: store the session turn and job result, announce JobCompleted (adds `result`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from endurance import bootstrap
from endurance.services.steps import persist_step

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return persist_step(
        event, jobs=bootstrap.jobs(), sessions=bootstrap.sessions(), publisher=bootstrap.publisher()
    )
