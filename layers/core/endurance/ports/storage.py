"""Ports for state and messaging: what the services need from storage, queues and push channels.

The AWS adapters (`endurance.adapters.aws`) implement them; tests may implement them in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from endurance.domain.models import Job, JobEnvelope, JobEvent, JobStatus, Route, Source, StepRecord


class ConnectionGone(Exception):
    """The WebSocket connection no longer exists (API Gateway answered 410 GoneException)."""

    def __init__(self, connection_id: str) -> None:
        self.connection_id = connection_id
        super().__init__(f"connection {connection_id} is gone")


@dataclass(frozen=True)
class IdempotencyRecord:
    key: str
    job_id: str
    fingerprint: str


class JobRepository(Protocol):
    def create(self, job: Job) -> None:
        """Write a new job; ConflictError if the job id exists."""

    def get(self, job_id: str) -> Job | None: ...

    def mark_running(self, job_id: str, attempt: int) -> bool:
        """QUEUED/RUNNING -> RUNNING. False when the job is missing or already terminal."""

    def record_step(self, job_id: str, step: StepRecord) -> None: ...

    def complete(
        self,
        envelope: JobEnvelope,
        *,
        status: JobStatus,
        route: Route,
        answer: str,
        sources: list[Source],
        evaluation: Mapping[str, Any] | None,
        generation: Mapping[str, Any] | None = None,
    ) -> None: ...

    def mark_failed(
        self, envelope: JobEnvelope, error: Mapping[str, Any], failed_step: StepRecord | None = None
    ) -> None: ...

    def reset_queued(self, job_id: str, attempt: int) -> bool:
        """Put a failed job back to QUEUED for a replay. False when the job does not exist."""


class SessionRepository(Protocol):
    def add_turn(self, session_id: str, turn_key: str, turn: Mapping[str, Any]) -> bool:
        """Write a turn once; False when it was already there (a replay)."""

    def list_turns(self, session_id: str) -> list[dict[str, Any]]:
        """Turns oldest first."""


class FeedbackRepository(Protocol):
    def add(self, job_id: str, feedback_id: str, item: Mapping[str, Any]) -> None: ...


class AuditRepository(Protocol):
    def put_event(self, event: JobEvent, expires_at: int) -> bool:
        """Write an event once; False when it was already there (a redelivery)."""


class ConnectionRepository(Protocol):
    def add_connection(self, connection_id: str, expires_at: int) -> None: ...

    def subscribe(self, connection_id: str, job_id: str, expires_at: int) -> None: ...

    def connections_for_job(self, job_id: str) -> list[str]: ...

    def delete_connection(self, connection_id: str) -> None: ...


class IdempotencyRepository(Protocol):
    def claim(self, record: IdempotencyRecord, expires_at: int) -> IdempotencyRecord | None:
        """Store the record unless the key is live; return the existing record when it is."""

    def release(self, key: str, job_id: str) -> None:
        """Forget a claim (the job it names never got queued), so the client may retry."""


class DocumentRepository(Protocol):
    def set_status(self, doc: str, status: str, *, chunks: int = 0, error: str | None = None) -> None: ...

    def get(self, doc: str) -> dict[str, Any] | None: ...

    def list_all(self) -> list[dict[str, Any]]:
        """Every document's status record, by name."""
        ...

    def delete(self, doc: str) -> None: ...


class EventPublisher(Protocol):
    def publish(self, event: JobEvent) -> None: ...


class ConnectionPusher(Protocol):
    def push(self, connection_id: str, message: Mapping[str, Any]) -> None:
        """Send one JSON message; ConnectionGone when the client has left."""


class JobQueue(Protocol):
    def send(self, envelope: JobEnvelope) -> str:
        """Queue a job for the dispatcher; returns the message id."""


class ExecutionStarter(Protocol):
    def start(self, name: str, payload: Mapping[str, Any]) -> bool:
        """Start an execution; False when one with this name already exists (already started)."""
