"""Job events (audit queue) -> the audit table, each event written once, kept 90 days (TTL)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from endurance import bootstrap
from endurance.services.audit import record_event
from endurance.services.events import job_event_from_message

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> bool:
    try:
        event = job_event_from_message(record.body)
    except ValueError:
        logger.error("malformed job event on the audit queue", message_id=record.message_id)
        raise
    written = record_event(event, audit=bootstrap.audit(), ttl_days=bootstrap.settings().audit_ttl_days)
    if not written:
        logger.info("audit event already recorded", job_id=event.job_id, event_id=event.event_id)
    return written


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
