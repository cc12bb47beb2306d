"""Reading job events off the queues the events topic fans out to (audit, notify, metrics)."""

from __future__ import annotations

import json
from typing import Any

from endurance.domain.models import JobEvent


def job_event_from_message(body: str) -> JobEvent:
    """Parse an SQS message body as a JobEvent.

    The subscriptions use raw message delivery, but an SNS envelope (raw delivery off) is unwrapped too,
    so a template change there degrades nothing. Raises ValueError (pydantic's ValidationError is one)
    for anything that is not a job event.
    """
    data: Any = json.loads(body)
    if isinstance(data, dict) and data.get("Type") == "Notification" and isinstance(data.get("Message"), str):
        data = json.loads(data["Message"])
    return JobEvent.model_validate(data)
