"""The audit log: every job event, written once, kept for a limited time (DynamoDB TTL)."""

from __future__ import annotations

import time

from endurance.domain.models import JobEvent
from endurance.ports.storage import AuditRepository


def record_event(
    event: JobEvent, *, audit: AuditRepository, ttl_days: int = 90, now: float | None = None
) -> bool:
    """Write the event; False when it was already written (SQS delivers at least once)."""
    expires_at = int(now if now is not None else time.time()) + ttl_days * 86400
    return audit.put_event(event, expires_at)
