"""WebSocket side of a job: connections, subscriptions, and pushing progress and results to subscribers.

Every message goes through the ConnectionPusher (the API Gateway management API), also replies to the
client's own requests, so the same code works on AWS and on the local runtime.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from endurance.domain.models import JobEvent, JobStatus
from endurance.ports.storage import ConnectionGone, ConnectionPusher, ConnectionRepository, JobRepository
from endurance.services.jobs import job_body

logger = logging.getLogger(__name__)

PROGRESS_EVENTS = frozenset({"StepStarted", "StepCompleted"})
RESULT_EVENTS = frozenset({"JobCompleted", "JobFailed"})


def _expires_at(ttl_hours: int) -> int:
    return int(time.time()) + ttl_hours * 3600


def error_message(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"code": code, "message": message}}


def connect(connection_id: str, *, connections: ConnectionRepository, ttl_hours: int = 2) -> None:
    connections.add_connection(connection_id, _expires_at(ttl_hours))


def disconnect(connection_id: str, *, connections: ConnectionRepository) -> None:
    connections.delete_connection(connection_id)


def push(
    connection_id: str,
    message: Mapping[str, Any],
    *,
    connections: ConnectionRepository,
    pusher: ConnectionPusher,
) -> bool:
    """Send one message; a connection that is gone is forgotten. False when it was gone."""
    try:
        pusher.push(connection_id, message)
    except ConnectionGone:
        logger.info("connection gone, dropping it", extra={"connection_id": connection_id})
        connections.delete_connection(connection_id)
        return False
    return True


def result_message(job_id: str, *, jobs: JobRepository) -> dict[str, Any] | None:
    job = jobs.get(job_id)
    return None if job is None else {"type": "result", **job_body(job)}


def subscribe(
    connection_id: str,
    job_id: str,
    *,
    jobs: JobRepository,
    connections: ConnectionRepository,
    pusher: ConnectionPusher,
    ttl_hours: int = 2,
) -> None:
    """Subscribe a connection to a job. The subscription is stored before the job is read, so a job that
    finishes in between is either seen terminal here or notified to the stored subscription: never missed.
    Steps the job has already been through are pushed at once, so a late subscriber sees every step (a
    step may then arrive twice; clients key progress by step name)."""
    job = jobs.get(job_id)
    if job is None:
        push(
            connection_id,
            error_message("not_found", f"job {job_id} not found"),
            connections=connections,
            pusher=pusher,
        )
        return
    connections.subscribe(connection_id, job_id, _expires_at(ttl_hours))
    job = jobs.get(job_id) or job
    sent = push(
        connection_id,
        {"type": "subscribed", "job_id": job_id, "status": job.status.value},
        connections=connections,
        pusher=pusher,
    )
    if not sent:
        return
    for step in job.steps:
        progress = {"type": "progress", "job_id": job_id, "step": step.name, "status": step.status}
        if not push(connection_id, progress, connections=connections, pusher=pusher):
            return
    if JobStatus(job.status).terminal:
        push(connection_id, {"type": "result", **job_body(job)}, connections=connections, pusher=pusher)


def event_message(event: JobEvent, *, jobs: JobRepository) -> dict[str, Any] | None:
    if event.type in PROGRESS_EVENTS:
        return {"type": "progress", "job_id": event.job_id, "step": event.step, "status": event.status}
    if event.type in RESULT_EVENTS:
        return result_message(event.job_id, jobs=jobs)
    return None


def notify_event(
    event: JobEvent, *, jobs: JobRepository, connections: ConnectionRepository, pusher: ConnectionPusher
) -> int:
    """Push what the event means to every connection subscribed to its job; returns how many got it."""
    subscribers = connections.connections_for_job(event.job_id)
    if not subscribers:
        return 0
    message = event_message(event, jobs=jobs)
    if message is None:
        return 0
    return sum(push(cid, message, connections=connections, pusher=pusher) for cid in subscribers)
