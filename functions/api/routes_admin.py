"""Admin routes of the HTTP API (what the dashboard's Jobs, Quality and Operations pages read), and the
dashboard's runtime configuration.

* `GET  /v1/admin/dlqs`                        every dead-letter queue with its source and depth
* `GET  /v1/admin/dlqs/{queue}/messages`       peek: error, job id and age of the messages, none removed
* `POST /v1/admin/dlqs/{queue}/replay`         `{"max", "dry_run", "job_id"?}`: move messages back
* `GET  /v1/admin/jobs?status=&limit=`         recent jobs, newest first (jobs table GSI `by_status`)
* `GET  /config.json`                          `{"api_url", "websocket_url", "admin_token_required"}`

Environment (set on ApiFunction by template.yaml): `ADMIN_TOKEN` — when not empty, the admin routes want
`Authorization: Bearer <token>` (401 without it, 403 with another); `ADMIN_QUEUE_URLS` — the stack's queue
URLs, comma-separated: the DLQ routes look at these only (on AWS the account may hold other stacks' queues,
which the function has no right to read). Errors are the API's `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import hmac
import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from endurance import bootstrap
from endurance.domain.errors import NotFoundError
from endurance.domain.models import STEP_NAMES, JobStatus
from endurance.services import dlq
from http_responses import ApiError, json_response
from pydantic import BaseModel, ConfigDict, Field

router = Router()

JOBS_BY_STATUS_INDEX = "by_status"
PEEK_VISIBILITY_SECONDS = 30
_MAX_RECEIVE_BATCH = 10
_BODY_PREVIEW_CHARS = 200
_MAX_BODY_BYTES = 16 * 1024


class AdminError(ApiError):
    """Raised by these routes; app.py's ApiError handler turns it into the JSON error."""


_json = json_response


def _admin_only(app: Any, next_middleware: NextMiddleware) -> Response:
    token = os.environ.get("ADMIN_TOKEN", "")
    if token:
        given = app.current_event.headers.get("authorization") or ""
        if not given:
            raise AdminError(401, "unauthorized", "admin routes need 'Authorization: Bearer <admin token>'")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise AdminError(403, "forbidden", "the admin token is not valid")
    return next_middleware(app)


ADMIN = [_admin_only]


# ---------------------------------------------------------------- request models


class ReplayRequest(BaseModel):
    """Body of POST /v1/admin/dlqs/{queue}/replay (an empty body means the defaults)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    max: int = Field(default=10, ge=1, le=100)
    dry_run: bool = False
    job_id: str | None = Field(default=None, min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_-]+$")


class PeekQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=20, ge=1, le=50)


class JobsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: JobStatus | None = None
    limit: int = Field(default=50, ge=1, le=200)


def _query(model: type[BaseModel]) -> Any:
    params = dict(router.current_event.query_string_parameters or {})
    # "?status=" (empty) means no filter, as a cleared <select> sends it.
    return model.model_validate({key: value for key, value in params.items() if value != ""})


def _body() -> dict[str, Any]:
    raw = router.current_event.decoded_body or ""
    if len(raw.encode()) > _MAX_BODY_BYTES:
        raise AdminError(413, "payload_too_large", f"the request body is over {_MAX_BODY_BYTES // 1024} KB")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as error:
        raise AdminError(400, "invalid_json", f"the request body is not valid JSON: {error.msg}") from error
    if not isinstance(body, dict):
        raise AdminError(400, "invalid_json", "the request body must be a JSON object")
    return body


# ---------------------------------------------------------------- the stack's queues


class _FixedQueueList:
    def __init__(self, urls: list[str]) -> None:
        self._urls = urls

    def paginate(self, **_: Any) -> Iterator[dict[str, Any]]:
        yield {"QueueUrls": list(self._urls)}


class _StackQueues:
    """A boto3 SQS client whose ListQueues answers the stack's own queues (ADMIN_QUEUE_URLS) only; every
    other call goes to the real client. The DLQ service finds DLQs by listing queues, and on AWS the
    function may read this stack's queues only."""

    def __init__(self, sqs: Any, urls: list[str]) -> None:
        self._sqs = sqs
        self._urls = sorted(urls)

    def get_paginator(self, name: str) -> Any:
        if name == "list_queues":
            return _FixedQueueList(self._urls)
        return self._sqs.get_paginator(name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)


def _sqs() -> Any:
    sqs = bootstrap.aws_client("sqs")
    urls = [url.strip() for url in os.environ.get("ADMIN_QUEUE_URLS", "").split(",") if url.strip()]
    return _StackQueues(sqs, urls) if urls else sqs


def _find_dlq(sqs: Any, queue: str) -> dict[str, Any]:
    for found in dlq.list_dlqs(sqs):
        if queue in (found["queue"], found["url"]):
            return found
    raise NotFoundError(f"{queue} is not a dead-letter queue of this stack")


# ---------------------------------------------------------------- DLQ routes


@router.get("/v1/admin/dlqs", middlewares=ADMIN)
def list_dead_letter_queues() -> Response:
    return _json(200, {"dlqs": dlq.list_dlqs(_sqs())})


def _peek(sqs: Any, url: str, limit: int) -> list[dict[str, Any]]:
    """Receive up to `limit` messages and give them back at once: nothing is deleted, and nothing stays
    hidden longer than this request (the visibility is reset to 0 even if reading fails half-way)."""
    received: dict[str, dict[str, Any]] = {}
    try:
        while len(received) < limit:
            batch = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(_MAX_RECEIVE_BATCH, limit - len(received)),
                AttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
                MessageAttributeNames=["All"],
                VisibilityTimeout=PEEK_VISIBILITY_SECONDS,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            fresh = [message for message in batch if message["MessageId"] not in received]
            if not fresh:
                break
            for message in fresh:
                received[message["MessageId"]] = message
    finally:
        for message in received.values():
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    return list(received.values())


def _message_view(message: dict[str, Any], now: float, job_error: Callable[[str], Any]) -> dict[str, Any]:
    body = message.get("Body", "")
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        parsed = None
    attributes = message.get("MessageAttributes", {})
    job_id = parsed.get("job_id") if isinstance(parsed, dict) else None
    if not isinstance(job_id, str):
        job_id = None
    if isinstance(parsed, dict) and "type" in parsed and job_id:
        kind = "job_event"
    elif isinstance(parsed, dict) and job_id and "question" in parsed:
        kind = "failed_job"
    elif isinstance(parsed, dict) and "ErrorCode" in attributes:
        kind = "function_event"  # an event a function failed on (Lambda's DLQ adds ErrorCode/ErrorMessage)
    else:
        kind = "unreadable"
    if kind == "unreadable":
        error: Any = {"type": "UnreadableMessage", "message": "the body is neither a job nor a job event"}
    elif kind == "function_event":
        error = {
            "type": attributes["ErrorCode"].get("StringValue", ""),
            "message": attributes.get("ErrorMessage", {}).get("StringValue", ""),
        }
    else:
        error = job_error(job_id) if job_id else None
    sent_ms = int(message.get("Attributes", {}).get("SentTimestamp", "0") or 0)
    replays = attributes.get(dlq.REPLAY_COUNT, {}).get("StringValue", "0")
    return {
        "message_id": message["MessageId"],
        "kind": kind,
        "job_id": job_id,
        "error": error,
        "sent_at": datetime.fromtimestamp(sent_ms / 1000, UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
        if sent_ms
        else None,
        "age_seconds": max(0, int(now - sent_ms / 1000)) if sent_ms else None,
        "receive_count": int(message.get("Attributes", {}).get("ApproximateReceiveCount", "0") or 0),
        "replay_count": int(replays) if replays.isdigit() else 0,
        "body_preview": body[:_BODY_PREVIEW_CHARS],
    }


@router.get("/v1/admin/dlqs/<queue>/messages", middlewares=ADMIN)
def peek_dead_letters(queue: str) -> Response:
    query = _query(PeekQuery)
    sqs = _sqs()
    found = _find_dlq(sqs, queue)
    messages = _peek(sqs, found["url"], query.limit)
    jobs = bootstrap.jobs()
    errors: dict[str, Any] = {}

    def job_error(job_id: str) -> Any:
        # The failed-jobs envelope carries no error; the job item has the one the state machine caught.
        if job_id not in errors:
            job = jobs.get(job_id)
            errors[job_id] = job.error if job is not None else None
        return errors[job_id]

    now = time.time()
    views = sorted(
        (_message_view(message, now, job_error) for message in messages),
        key=lambda view: (view["sent_at"] or "", view["message_id"]),
    )
    return _json(
        200,
        {
            "queue": found["queue"],
            "source": found["source"],
            "depth": found["messages"],
            "messages": views,
        },
    )


@router.post("/v1/admin/dlqs/<queue>/replay", middlewares=ADMIN)
def replay_dead_letters(queue: str) -> Response:
    request = ReplayRequest.model_validate(_body())
    report = dlq.replay(
        _sqs(),
        queue,
        max_messages=request.max,
        dry_run=request.dry_run,
        jobs=bootstrap.jobs(),
        job_id=request.job_id,
        lambda_client=bootstrap.aws_client("lambda"),
    )
    return _json(200, report)


# ---------------------------------------------------------------- recent jobs


def _steps(steps: Any) -> list[dict[str, Any]]:
    if not isinstance(steps, dict):
        return []
    order = {name: index for index, name in enumerate(STEP_NAMES)}
    names = sorted(steps, key=lambda name: (order.get(name, len(order)), name))
    return [{"name": name, **steps[name]} for name in names]


_JOB_FIELDS = ("job_id", "status", "question", "session_id", "created_at", "updated_at", "route", "attempt")


def _job_view(item: dict[str, Any]) -> dict[str, Any]:
    view = {name: item.get(name) for name in _JOB_FIELDS}
    view["steps"] = _steps(item.get("steps"))
    view["evaluation"] = item.get("evaluation")
    view["error"] = item.get("error")
    return view


def _recent_with_status(status: JobStatus, limit: int) -> list[dict[str, Any]]:
    from endurance.adapters.aws.clients import aws_errors
    from endurance.adapters.aws.dynamodb import deserialize, serialize

    settings = bootstrap.settings()
    settings.require("jobs_table")
    table = settings.jobs_table
    dynamodb = bootstrap.aws_client("dynamodb")
    items: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    with aws_errors(f"Query {table}/{JOBS_BY_STATUS_INDEX}"):
        while len(items) < limit:
            kwargs: dict[str, Any] = {
                "TableName": table,
                "IndexName": JOBS_BY_STATUS_INDEX,
                "KeyConditionExpression": "#s = :status",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": serialize({":status": status.value}),
                "ScanIndexForward": False,
                "Limit": limit - len(items),
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = dynamodb.query(**kwargs)
            items.extend(deserialize(item) for item in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
    return items


@router.get("/v1/admin/jobs", middlewares=ADMIN)
def recent_jobs() -> Response:
    query = _query(JobsQuery)
    statuses = [query.status] if query.status is not None else list(JobStatus)
    # One partition per status, newest first in each; without a filter, merge them and keep the newest.
    items = [item for status in statuses for item in _recent_with_status(status, query.limit)]
    items.sort(key=lambda item: (str(item.get("created_at") or ""), str(item.get("job_id"))), reverse=True)
    jobs = [_job_view(item) for item in items[: query.limit]]
    status = query.status.value if query.status is not None else None
    return _json(200, {"jobs": jobs, "count": len(jobs), "status": status, "limit": query.limit})


# ---------------------------------------------------------------- dashboard runtime configuration


@router.get("/config.json")
def dashboard_config() -> Response:
    """Where the dashboard finds the APIs. Locally it is served from the API's own origin; on AWS the
    deploy step writes the same document next to the bundle (dashboard/scripts/deploy.mjs)."""
    event = router.current_event
    headers = event.headers
    context = event.raw_event.get("requestContext", {})
    host = context.get("domainName") or headers.get("host") or ""
    scheme = (headers.get("x-forwarded-proto") or "https").split(",")[0].strip()
    body = {
        "api_url": f"{scheme}://{host}" if host else "",
        "websocket_url": bootstrap.settings().websocket_url,
        "admin_token_required": bool(os.environ.get("ADMIN_TOKEN")),
    }
    return _json(200, body, headers={"Cache-Control": "no-store"})
