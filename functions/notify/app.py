"""Job events (notify queue) -> WebSocket pushes to every connection subscribed to the job.

Progress events become {"type": "progress", ...}; JobCompleted/JobFailed become {"type": "result", ...} with
the job as GET /v1/jobs/{id} serves it. A connection that is gone (410) is forgotten; any other failure
makes that record a batch item failure, so it is retried and finally lands in the notify DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from endurance import bootstrap
from endurance.services.events import job_event_from_message
from endurance.services.notifications import notify_event

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> int:
    try:
        event = job_event_from_message(record.body)
    except ValueError:
        logger.error("malformed job event on the notify queue", message_id=record.message_id)
        raise
    pushed = notify_event(
        event, jobs=bootstrap.jobs(), connections=bootstrap.connections(), pusher=bootstrap.pusher()
    )
    logger.debug("event pushed", job_id=event.job_id, type=event.type, connections=pushed)
    return pushed


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
