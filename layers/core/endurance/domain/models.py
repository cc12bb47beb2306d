"""The domain: what a chat job is, what each step produces, and what the system says about it.

Plain pydantic models, no I/O. Every boundary (HTTP body, SQS message, state-machine state) is parsed into
these, so bad input fails here with a clear message instead of deep inside a step.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_QUESTION_CHARS = 4000


def utc_now() -> str:
    """ISO-8601 UTC with milliseconds; sorts lexically in time order (used in sort keys)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return uuid.uuid4().hex


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    NEEDS_HUMAN = "NEEDS_HUMAN"
    BLOCKED = "BLOCKED"
    FAILED = "FAILED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {JobStatus.COMPLETED, JobStatus.NEEDS_HUMAN, JobStatus.BLOCKED, JobStatus.FAILED}
)


class Route(StrEnum):
    DIRECT = "direct"
    RAG = "rag"
    HUMAN_REVIEW = "human_review"
    BLOCKED = "blocked"

    @property
    def final_status(self) -> JobStatus:
        return {
            Route.DIRECT: JobStatus.COMPLETED,
            Route.RAG: JobStatus.COMPLETED,
            Route.HUMAN_REVIEW: JobStatus.NEEDS_HUMAN,
            Route.BLOCKED: JobStatus.BLOCKED,
        }[self]


STEP_NAMES = ("classify", "retrieve", "answer", "evaluate", "persist")


class ChatRequest(BaseModel):
    """Body of POST /v1/chat."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    session_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")


class JobEnvelope(BaseModel):
    """The job as it travels: intake message body, state-machine input, failed-jobs message body."""

    model_config = ConfigDict(extra="ignore")

    job_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_-]+$")
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    session_id: str
    created_at: str
    attempt: int = Field(default=1, ge=1)


class Classification(BaseModel):
    route: Route
    confidence: float = Field(ge=0, le=1)
    reason: str


class Chunk(BaseModel):
    """A piece of a document, with the provenance a citation needs."""

    chunk_id: str
    doc: str
    section: str = ""  # heading path, outermost first: "2. Budget > 2.1 Basis"
    text: str
    score: float = 0.0
    metadata: dict[str, Any] = Field(default_factory=dict)


class Source(BaseModel):
    doc: str
    section: str
    chunk_id: str
    score: float
    text: str = ""  # the cited chunk's text, so a citation can be opened without another lookup


class Answer(BaseModel):
    text: str
    sources: list[Source] = Field(default_factory=list)  # [n] in the text cites sources[n-1]
    refusal: bool = False
    provider: str = "offline"
    model: str = "extractive"
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    cost_usd: float = 0.0


Verdict = Literal["pass", "warn", "fail"]


class Evaluation(BaseModel):
    """Quality metrics of one answer; every score is in [0, 1]."""

    model_config = ConfigDict(extra="allow")

    faithfulness: float | None = None
    hallucination: bool = False
    unsupported_spans: list[str] = Field(default_factory=list)
    answer_relevance: float | None = None
    context_relevance: list[float] = Field(default_factory=list)
    context_precision: float | None = None
    refusal: bool = False
    refusal_correct: bool | None = None
    pii: list[dict[str, str]] = Field(default_factory=list)
    toxicity: float = 0.0
    toxic: bool = False
    verdict: Verdict = "pass"
    reasons: list[str] = Field(default_factory=list)


class StepRecord(BaseModel):
    name: str
    status: Literal["RUNNING", "COMPLETED", "FAILED", "SKIPPED"]
    ms: float | None = None
    started_at: str | None = None


EventType = Literal["JobSubmitted", "StepStarted", "StepCompleted", "JobCompleted", "JobFailed"]


class JobEvent(BaseModel):
    """What the pipeline tells the world; fanned out to audit, notify and metrics."""

    event_id: str = Field(default_factory=new_id)
    type: EventType
    job_id: str
    step: str | None = None
    status: str
    attempt: int = 1
    timestamp: str = Field(default_factory=utc_now)
    detail: dict[str, Any] = Field(default_factory=dict)


class Job(BaseModel):
    """A job as stored and as served by GET /v1/jobs/{job_id}."""

    job_id: str
    status: JobStatus
    question: str
    session_id: str
    created_at: str
    updated_at: str | None = None
    route: Route | None = None
    answer: str | None = None
    sources: list[Source] = Field(default_factory=list)
    evaluation: dict[str, Any] | None = None
    # Who wrote the answer and what it cost: provider, model, tokens_in/out, latency_ms, cost_usd.
    generation: dict[str, Any] | None = None
    steps: list[StepRecord] = Field(default_factory=list)
    error: dict[str, Any] | None = None
    attempt: int = 1

    def public_view(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"session_id", "created_at", "updated_at", "attempt"}) | {
            "session_id": self.session_id,
            "created_at": self.created_at,
        }


class Feedback(BaseModel):
    """Body of POST /v1/feedback."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    job_id: str = Field(min_length=1, max_length=80)
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=2000)

    @field_validator("comment")
    @classmethod
    def _empty_comment_is_none(cls, value: str | None) -> str | None:
        return value or None
