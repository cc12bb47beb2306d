"""Chat state machine step: the Endurance metrics on the answer (adds `evaluation` to the state)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from endurance import bootstrap
from endurance.pipeline.evaluate import evaluate
from endurance.services.steps import evaluate_step

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return evaluate_step(event, evaluate=evaluate, jobs=bootstrap.jobs(), publisher=bootstrap.publisher())
