"""The state machine's Catch target (MarkFailed): mark the job FAILED with the error, announce JobFailed.

Returns the state unchanged; the state machine then puts `$.job` on the failed-jobs queue for replay.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from endurance import bootstrap
from endurance.services.steps import fail_step

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    error = event.get("error") if isinstance(event.get("error"), dict) else {}
    logger.warning("job failed", job_id=(event.get("job") or {}).get("job_id"), error=error.get("Error"))
    return fail_step(event, jobs=bootstrap.jobs(), publisher=bootstrap.publisher())
