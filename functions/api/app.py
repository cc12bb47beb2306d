"""HTTP API (payload format 2.0): chat jobs, job and session reads, feedback, evaluation, health.

Errors are JSON `{"error": {"code", "message"}}` with the status that says what went wrong. Questions are
never logged in full: they may hold personal data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from endurance import bootstrap
from endurance.domain.errors import ConflictError, NotFoundError, TransientError
from endurance.domain.models import MAX_QUESTION_CHARS, ChatRequest, Feedback
from endurance.services import jobs as job_service
from http_responses import ApiError, error_response, json_response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from routes_admin import router as admin_router
from routes_documents import router as documents_router

MAX_BODY_BYTES = 64 * 1024
MAX_EVALUATE_CONTEXTS = 50
MAX_EVALUATE_ANSWER_CHARS = 20_000

logger = Logger()
app = APIGatewayHttpResolver()


class EvaluateRequest(BaseModel):
    """Body of POST /v1/evaluate: any question/contexts/answer triple."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    # At least one context: groundedness cannot be judged against nothing. Sizes are capped so one request
    # stays within the evaluate budget (the 64 KB body cap applies first).
    contexts: list[str] = Field(min_length=1, max_length=MAX_EVALUATE_CONTEXTS)
    answer: str = Field(min_length=1, max_length=MAX_EVALUATE_ANSWER_CHARS)

    @field_validator("contexts")
    @classmethod
    def _contexts_have_text(cls, contexts: list[str]) -> list[str]:
        if any(not context.strip() for context in contexts):
            raise ValueError("every context must be a non-empty string")
        return contexts


class BadRequest(ApiError):
    """The request itself is unusable (encoding, size, JSON, headers)."""


_error = error_response
_json = json_response


def _body() -> Any:
    try:
        raw = app.current_event.decoded_body or ""
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequest(400, "invalid_encoding", "the request body is not valid UTF-8 text") from error
    if len(raw.encode()) > MAX_BODY_BYTES:
        raise BadRequest(413, "payload_too_large", f"the request body is over {MAX_BODY_BYTES // 1024} KB")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise BadRequest(400, "invalid_json", f"the request body is not valid JSON: {error.msg}") from error


def _validation_message(errors: Sequence[Any]) -> str:
    # Field paths and reasons only: echoing the input could copy personal data into logs and responses.
    parts = []
    for error in errors[:5]:
        where = ".".join(str(part) for part in error.get("loc", ())) or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


@app.exception_handler(ApiError)
def _api_error(error: ApiError) -> Response:
    return _error(error.status, error.code, error.message)


@app.exception_handler(ValidationError)
def _invalid(error: ValidationError) -> Response:
    return _error(422, "invalid_request", _validation_message(error.errors(include_input=False)))


@app.exception_handler(NotFoundError)
def _not_found(error: NotFoundError) -> Response:
    return _error(404, "not_found", str(error))


@app.exception_handler(ConflictError)
def _conflict(error: ConflictError) -> Response:
    return _error(409, "conflict", str(error))


@app.exception_handler(TransientError)
def _unavailable(error: TransientError) -> Response:
    logger.warning("service unavailable", error=str(error))
    return _error(503, "unavailable", "the service is temporarily unavailable; try again")


@app.exception_handler(Exception)
def _internal(error: Exception) -> Response:
    logger.exception("unhandled error")
    return _error(500, "internal_error", "an unexpected error occurred")


@app.not_found
def _no_route(_: Exception) -> Response:
    event = app.current_event
    return _error(404, "not_found", f"no route {event.http_method} {event.path}")


@app.get("/health")
def health() -> Response:
    return _json(200, {"status": "ok"})


@app.post("/v1/chat")
def chat() -> Response:
    request = ChatRequest.model_validate(_body())
    key = app.current_event.headers.get("idempotency-key") or None
    if key is not None and not (1 <= len(key) <= 255):
        raise BadRequest(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 characters")
    settings = bootstrap.settings()
    submitted = job_service.submit_job(
        request,
        jobs=bootstrap.jobs(),
        queue=bootstrap.intake_queue(),
        idempotency=bootstrap.idempotency() if key else None,
        idempotency_key=key,
        idempotency_ttl_hours=settings.idempotency_ttl_hours,
    )
    logger.info(
        "job accepted",
        job_id=submitted.job_id,
        replayed=submitted.replayed,
        question_chars=len(request.question),
    )
    body = submitted.body(settings.websocket_url)
    return _json(202, body, headers={"Location": body["status_url"]})


@app.get("/v1/jobs/<job_id>")
def get_job(job_id: str) -> Response:
    job = job_service.get_job(job_id, jobs=bootstrap.jobs())
    return _json(200, job_service.job_body(job))


@app.get("/v1/sessions/<session_id>")
def get_session(session_id: str) -> Response:
    return _json(200, job_service.get_session(session_id, sessions=bootstrap.sessions()))


@app.post("/v1/feedback")
def feedback() -> Response:
    request = Feedback.model_validate(_body())
    created = job_service.add_feedback(request, jobs=bootstrap.jobs(), store=bootstrap.feedback())
    logger.info("feedback stored", job_id=request.job_id, rating=request.rating)
    return _json(201, created)


@app.post("/v1/evaluate")
def evaluate() -> Response:
    from endurance.pipeline.evaluate import evaluate as evaluate_answer

    request = EvaluateRequest.model_validate(_body())
    evaluation = evaluate_answer(request.question, request.contexts, request.answer)
    return _json(200, evaluation.model_dump(mode="json"))


app.include_router(admin_router)
app.include_router(documents_router)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
