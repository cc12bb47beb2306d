"""Intake queue -> chat state machine. One execution per job attempt, started at most once.

A malformed message is reported as a batch item failure (logged with its message id), so after the
queue's maxReceiveCount it lands in the intake DLQ for someone to look at instead of being dropped.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from endurance import bootstrap
from endurance.domain.models import JobEnvelope
from endurance.services.jobs import dispatch_job, execution_name
from pydantic import ValidationError

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> str:
    try:
        envelope = JobEnvelope.model_validate_json(record.body)
    except ValidationError as error:
        logger.error(
            "malformed intake message; it will go to the intake DLQ",
            message_id=record.message_id,
            errors=error.errors(include_input=False, include_url=False),
        )
        raise
    outcome = dispatch_job(envelope, jobs=bootstrap.jobs(), starter=bootstrap.starter())
    logger.info(
        "job dispatched",
        job_id=envelope.job_id,
        attempt=envelope.attempt,
        execution=execution_name(envelope),
        outcome=outcome,
    )
    return outcome


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
