"""Chat jobs: submit (POST /v1/chat), read (GET /v1/jobs, /v1/sessions), feedback, and dispatch.

A job is written QUEUED *before* it is queued, and marked FAILED when queueing fails, so a QUEUED job
always has a message on the intake queue and no accepted job is ever silently lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from endurance.domain.errors import ConflictError, NotFoundError, TransientError
from endurance.domain.models import ChatRequest, Feedback, Job, JobEnvelope, JobStatus, new_id, utc_now
from endurance.ports.storage import (
    ExecutionStarter,
    FeedbackRepository,
    IdempotencyRecord,
    IdempotencyRepository,
    JobQueue,
    JobRepository,
    SessionRepository,
)

logger = logging.getLogger(__name__)


class QueueUnavailable(TransientError):
    """The job could not be put on the intake queue; it has been marked FAILED."""


@dataclass(frozen=True)
class Submitted:
    job_id: str
    session_id: str
    status: JobStatus
    replayed: bool  # True when an Idempotency-Key matched an earlier request

    def body(self, websocket_url: str) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "session_id": self.session_id,
            "status": JobStatus.QUEUED.value,
            "status_url": f"/v1/jobs/{self.job_id}",
            "websocket_url": websocket_url,
        }


def request_fingerprint(request: ChatRequest) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def submit_job(
    request: ChatRequest,
    *,
    jobs: JobRepository,
    queue: JobQueue,
    idempotency: IdempotencyRepository | None = None,
    idempotency_key: str | None = None,
    idempotency_ttl_hours: int = 24,
) -> Submitted:
    """Accept a question as a job. ConflictError when the idempotency key was used for another request."""
    job_id = new_id()
    if idempotency_key:
        if idempotency is None:
            raise ValueError("an idempotency repository is required with an idempotency key")
        fingerprint = request_fingerprint(request)
        claim = IdempotencyRecord(key=idempotency_key, job_id=job_id, fingerprint=fingerprint)
        existing = idempotency.claim(claim, int(time.time()) + idempotency_ttl_hours * 3600)
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise ConflictError("this Idempotency-Key was already used with a different request body")
            earlier = jobs.get(existing.job_id)
            session_id = earlier.session_id if earlier else (request.session_id or "")
            status = earlier.status if earlier else JobStatus.QUEUED
            return Submitted(existing.job_id, session_id, status, replayed=True)

    session_id = request.session_id or new_id()
    job = Job(
        job_id=job_id,
        status=JobStatus.QUEUED,
        question=request.question,
        session_id=session_id,
        created_at=utc_now(),
    )
    try:
        jobs.create(job)
    except Exception:
        if idempotency_key and idempotency is not None:
            idempotency.release(idempotency_key, job_id)
        raise
    envelope = JobEnvelope(
        job_id=job_id, question=job.question, session_id=session_id, created_at=job.created_at, attempt=1
    )
    try:
        queue.send(envelope)
    except Exception as error:
        logger.error("intake queue send failed", extra={"job_id": job_id, "error": type(error).__name__})
        jobs.mark_failed(envelope, {"type": "QueueUnavailable", "message": str(error)[:500]})
        if idempotency_key and idempotency is not None:
            idempotency.release(idempotency_key, job_id)
        raise QueueUnavailable("the job could not be queued; try again") from error
    return Submitted(job_id, session_id, JobStatus.QUEUED, replayed=False)


def get_job(job_id: str, *, jobs: JobRepository) -> Job:
    job = jobs.get(job_id)
    if job is None:
        raise NotFoundError(f"job {job_id} not found")
    return job


def job_body(job: Job) -> dict[str, Any]:
    """The public shape of a job (GET /v1/jobs/{job_id} and the WebSocket `result` message)."""
    return job.public_view()


def get_session(session_id: str, *, sessions: SessionRepository) -> dict[str, Any]:
    turns = sessions.list_turns(session_id)
    if not turns:
        raise NotFoundError(f"session {session_id} not found")
    keep = ("job_id", "question", "answer", "status", "created_at")
    return {"session_id": session_id, "turns": [{key: turn.get(key) for key in keep} for turn in turns]}


def add_feedback(feedback: Feedback, *, jobs: JobRepository, store: FeedbackRepository) -> dict[str, Any]:
    if jobs.get(feedback.job_id) is None:
        raise NotFoundError(f"job {feedback.job_id} not found")
    feedback_id = new_id()
    item = {"rating": feedback.rating, "created_at": utc_now()}
    if feedback.comment:
        item["comment"] = feedback.comment
    store.add(feedback.job_id, feedback_id, item)
    return {"job_id": feedback.job_id, "feedback_id": feedback_id}


def execution_name(envelope: JobEnvelope) -> str:
    """One execution per attempt: a replayed job restarts under the same job id with a new suffix."""
    return envelope.job_id if envelope.attempt == 1 else f"{envelope.job_id}-r{envelope.attempt}"


def dispatch_job(envelope: JobEnvelope, *, jobs: JobRepository, starter: ExecutionStarter) -> str:
    """Mark the job RUNNING and start its execution. Returns "started", "already_started" or "skipped"."""
    if not jobs.mark_running(envelope.job_id, envelope.attempt):
        # Missing or already finished: a duplicate intake delivery must not restart a finished job.
        return "skipped"
    started = starter.start(execution_name(envelope), {"job": envelope.model_dump(mode="json")})
    return "started" if started else "already_started"
