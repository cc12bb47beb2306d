"""Job events (metrics queue) -> CloudWatch metrics in Embedded Metric Format (namespace Endurance).

JobsCompleted / JobsFailed by route, Verdicts by verdict, StepLatency (ms) by step. Each data point is
its own EMF document (single_metric) because their dimensions differ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from endurance.domain.models import JobEvent
from endurance.services.events import job_event_from_message

NAMESPACE = "Endurance"

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _emit(name: str, unit: MetricUnit, value: float, dimension: str, dimension_value: str) -> None:
    with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE) as metric:
        metric.add_dimension(name=dimension, value=dimension_value)


def emit_metrics(event: JobEvent) -> int:
    """Emit what the event measures; returns how many data points."""
    detail = event.detail
    emitted = 0
    if event.type == "JobCompleted":
        _emit("JobsCompleted", MetricUnit.Count, 1, "route", str(detail.get("route") or "unknown"))
        emitted += 1
        if detail.get("verdict"):
            _emit("Verdicts", MetricUnit.Count, 1, "verdict", str(detail["verdict"]))
            emitted += 1
    elif event.type == "JobFailed":
        _emit("JobsFailed", MetricUnit.Count, 1, "route", str(detail.get("route") or "unknown"))
        emitted += 1
    elif (
        event.type == "StepCompleted"
        and event.status == "COMPLETED"
        and isinstance(detail.get("ms"), int | float)
    ):
        _emit("StepLatency", MetricUnit.Milliseconds, float(detail["ms"]), "step", str(event.step))
        emitted += 1
    return emitted


def record_handler(record: SQSRecord) -> int:
    try:
        event = job_event_from_message(record.body)
    except ValueError:
        logger.error("malformed job event on the metrics queue", message_id=record.message_id)
        raise
    return emit_metrics(event)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
