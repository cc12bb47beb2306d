"""Chat state machine step: classify the question (adds `classification` to the state)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from endurance import bootstrap
from endurance.pipeline.classify import classify
from endurance.services.steps import classify_step

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return classify_step(event, classify=classify, jobs=bootstrap.jobs(), publisher=bootstrap.publisher())
