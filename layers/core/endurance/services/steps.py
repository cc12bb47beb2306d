"""The chat state machine's steps: each takes the whole state and returns it with its own key added.

`run_step` wraps every step the same way: it records the step in the job item (RUNNING, then COMPLETED
with its duration, or FAILED), publishes StepStarted/StepCompleted job events, and re-raises failures
unchanged, because Step Functions retries and catches by the exception's class name (TransientError is
retried; anything else goes to the Catch, i.e. `fail_step`). Records are SETs keyed by step name, so a
retried step overwrites its own record instead of adding one.

Fault injection (tests only): when the environment variable ENDURANCE_FAULT_INJECTION is "1" and the
question contains the marker "[[fail:<step>]]" (e.g. "[[fail:evaluate]]"), that step raises
FaultInjected (a PermanentError, so it is not retried) before doing any work — on the job's first
attempt only, so that replaying the failed job (attempt 2) shows recovery. Without the variable the
marker is ordinary text. The integration tests use it to drive a job into the failure path.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from endurance.domain.errors import PermanentError
from endurance.domain.models import (
    Answer,
    Chunk,
    Classification,
    Evaluation,
    JobEnvelope,
    JobEvent,
    JobStatus,
    Route,
    Source,
    StepRecord,
    utc_now,
)
from endurance.ports.storage import EventPublisher, JobRepository, SessionRepository
from endurance.services.conversation import history_for, question_of

logger = logging.getLogger(__name__)

FAULT_INJECTION_ENV = "ENDURANCE_FAULT_INJECTION"
STATE_KEYS = {
    "classify": "classification",
    "retrieve": "retrieval",
    "answer": "answer",
    "evaluate": "evaluation",
    "persist": "result",
}
HUMAN_REVIEW_MESSAGE = (
    "This question needs a person: it has been passed to the team, who will get back to you."
)
BLOCKED_MESSAGE = "I can't help with that request."
_CITATION = re.compile(r"\[(\d+)\]")

State = dict[str, Any]
StepFn = Callable[[JobEnvelope, State], dict[str, Any]]


class FaultInjected(PermanentError):
    """Raised on purpose by the fault-injection test hook (see the module docstring)."""


def envelope_of(state: Mapping[str, Any]) -> JobEnvelope:
    job = state.get("job") if isinstance(state, Mapping) else None
    if not isinstance(job, Mapping):
        raise PermanentError("the state has no 'job' object")
    return JobEnvelope.model_validate(job)


def _check_fault(step: str, envelope: JobEnvelope, environ: Mapping[str, str]) -> None:
    first_attempt = envelope.attempt == 1
    if environ.get(FAULT_INJECTION_ENV) == "1" and first_attempt and f"[[fail:{step}]]" in envelope.question:
        raise FaultInjected(f"fault injected in step {step}")


def run_step(
    name: str,
    state: State,
    fn: StepFn,
    *,
    jobs: JobRepository,
    publisher: EventPublisher,
    environ: Mapping[str, str] | None = None,
) -> State:
    """Run one step with its bookkeeping; returns the state with STATE_KEYS[name] set to fn's result."""
    envelope = envelope_of(state)
    started_at = utc_now()
    jobs.record_step(envelope.job_id, StepRecord(name=name, status="RUNNING", started_at=started_at))
    publisher.publish(
        JobEvent(
            type="StepStarted", job_id=envelope.job_id, step=name, status="RUNNING", attempt=envelope.attempt
        )
    )
    clock = time.perf_counter()
    try:
        _check_fault(name, envelope, os.environ if environ is None else environ)
        value = fn(envelope, state)
    except Exception as error:
        ms = round((time.perf_counter() - clock) * 1000, 1)
        logger.warning(
            "step failed", extra={"job_id": envelope.job_id, "step": name, "error": type(error).__name__}
        )
        _record_failure(name, envelope, started_at, ms, error, jobs=jobs, publisher=publisher)
        raise
    ms = round((time.perf_counter() - clock) * 1000, 1)
    jobs.record_step(envelope.job_id, StepRecord(name=name, status="COMPLETED", ms=ms, started_at=started_at))
    publisher.publish(
        JobEvent(
            type="StepCompleted",
            job_id=envelope.job_id,
            step=name,
            status="COMPLETED",
            attempt=envelope.attempt,
            detail={"ms": ms},
        )
    )
    return {**state, STATE_KEYS[name]: value}


def _record_failure(
    name: str,
    envelope: JobEnvelope,
    started_at: str,
    ms: float,
    error: Exception,
    *,
    jobs: JobRepository,
    publisher: EventPublisher,
) -> None:
    # Best effort: the original exception is what Step Functions must see, not a bookkeeping failure.
    try:
        jobs.record_step(
            envelope.job_id, StepRecord(name=name, status="FAILED", ms=ms, started_at=started_at)
        )
        publisher.publish(
            JobEvent(
                type="StepCompleted",
                job_id=envelope.job_id,
                step=name,
                status="FAILED",
                attempt=envelope.attempt,
                detail={"ms": ms, "error": type(error).__name__},
            )
        )
    except Exception:
        logger.exception("could not record the failed step", extra={"job_id": envelope.job_id, "step": name})


def route_of(state: Mapping[str, Any]) -> Route:
    classification = state.get("classification")
    if not isinstance(classification, Mapping):
        raise PermanentError("the state has no classification")
    return Classification.model_validate(classification).route


def classify_step(
    state: State,
    *,
    classify: Callable[[str], Classification],
    jobs: JobRepository,
    publisher: EventPublisher,
    sessions: SessionRepository | None = None,
    condense: Callable[[str, Sequence[tuple[str, str]]], str] | None = None,
    max_turns: int = 3,
) -> State:
    """Route the question. With ``sessions`` and ``condense``, a follow-up is first rewritten into a
    standalone question from the session's earlier turns (see services.conversation); the rewrite is
    routed, unless the question as asked is already blocked or for a person."""

    def step(envelope: JobEnvelope, _: State) -> dict[str, Any]:
        as_asked = classify(envelope.question)
        standalone = envelope.question
        if sessions is not None and condense is not None:
            history = history_for(sessions, envelope, max_turns=max_turns)
            if history:
                standalone = condense(envelope.question, history)
        if standalone == envelope.question or as_asked.route in (Route.BLOCKED, Route.HUMAN_REVIEW):
            return as_asked.model_dump(mode="json")
        return classify(standalone).model_dump(mode="json") | {"standalone_question": standalone}

    return run_step("classify", state, step, jobs=jobs, publisher=publisher)


def retrieve_step(
    state: State, *, retrieve: Callable[[str], list[Chunk]], jobs: JobRepository, publisher: EventPublisher
) -> State:
    """Only the rag route retrieves; on any other route the state passes through without a key."""
    if route_of(state) is not Route.RAG:
        return state

    def step(envelope: JobEnvelope, current: State) -> dict[str, Any]:
        return {"chunks": [chunk.model_dump(mode="json") for chunk in retrieve(question_of(current))]}

    return run_step("retrieve", state, step, jobs=jobs, publisher=publisher)


def chunks_of(state: Mapping[str, Any]) -> list[Chunk]:
    retrieval = state.get("retrieval")
    if not isinstance(retrieval, Mapping):
        return []
    return [Chunk.model_validate(chunk) for chunk in retrieval.get("chunks", [])]


def answer_state(answer: Answer) -> dict[str, Any]:
    cited = sorted({int(n) for n in _CITATION.findall(answer.text) if 0 < int(n) <= len(answer.sources)})
    return {
        "text": answer.text,
        "citations": cited,
        "sources": [source.model_dump(mode="json") for source in answer.sources],
        "refusal": answer.refusal,
        "provider": answer.provider,
        "model": answer.model,
        "tokens_in": answer.tokens_in,
        "tokens_out": answer.tokens_out,
        "latency_ms": answer.latency_ms,
        "cost_usd": answer.cost_usd,
    }


def generation_of(state: Mapping[str, Any]) -> dict[str, Any] | None:
    """Who wrote the answer and what it cost (provider, model, tokens, latency, estimated cost)."""
    answer = state.get("answer")
    if not isinstance(answer, Mapping):
        return None
    keys = ("provider", "model", "tokens_in", "tokens_out", "latency_ms", "cost_usd")
    return {key: answer[key] for key in keys if key in answer}


def answer_step(
    state: State,
    *,
    answer: Callable[[str, list[Chunk], Route], Answer],
    jobs: JobRepository,
    publisher: EventPublisher,
) -> State:
    def step(envelope: JobEnvelope, current: State) -> dict[str, Any]:
        chunks = chunks_of(current)
        result = answer(question_of(current), chunks, route_of(current))
        texts = {chunk.chunk_id: chunk.text for chunk in chunks}
        for source in result.sources:
            source.text = source.text or texts.get(source.chunk_id, "")
        return answer_state(result)

    return run_step("answer", state, step, jobs=jobs, publisher=publisher)


def evaluate_step(
    state: State,
    *,
    evaluate: Callable[[str, Sequence[str], str], Evaluation],
    jobs: JobRepository,
    publisher: EventPublisher,
) -> State:
    def step(envelope: JobEnvelope, current: State) -> dict[str, Any]:
        text = str((current.get("answer") or {}).get("text", ""))
        contexts = [chunk.text for chunk in chunks_of(current)]
        return evaluate(question_of(current), contexts, text).model_dump(mode="json")

    return run_step("evaluate", state, step, jobs=jobs, publisher=publisher)


def final_answer(route: Route, state: Mapping[str, Any]) -> tuple[str, list[Source], dict[str, Any] | None]:
    """What the user is told: the generated answer, or a fixed message when a person or a refusal decides."""
    if route is Route.HUMAN_REVIEW:
        return HUMAN_REVIEW_MESSAGE, [], None
    if route is Route.BLOCKED:
        return BLOCKED_MESSAGE, [], None
    answer = state.get("answer")
    if not isinstance(answer, Mapping):
        raise PermanentError(f"route {route.value} reached persist without an answer")
    sources = [Source.model_validate(source) for source in answer.get("sources", [])]
    evaluation = state.get("evaluation")
    return str(answer.get("text", "")), sources, dict(evaluation) if isinstance(evaluation, Mapping) else None


def persist_step(
    state: State, *, jobs: JobRepository, sessions: SessionRepository, publisher: EventPublisher
) -> State:
    """Write the session turn (once per job) and the job result, then announce JobCompleted."""
    route = route_of(state)
    status = route.final_status

    def step(envelope: JobEnvelope, current: State) -> dict[str, Any]:
        text, sources, evaluation = final_answer(route, current)
        turn: dict[str, Any] = {
            "job_id": envelope.job_id,
            "question": envelope.question,
            "answer": text,
            "status": status.value,
            "route": route.value,
            "created_at": envelope.created_at,
            "sources": [source.model_dump(mode="json") for source in sources],
        }
        if evaluation is not None:
            turn["evaluation"] = evaluation
        standalone = question_of(current)
        if standalone != envelope.question:
            turn["standalone_question"] = standalone
        generation = generation_of(current) if route in (Route.DIRECT, Route.RAG) else None
        if generation:
            turn["generation"] = generation
        # The sort key comes from the envelope, not the clock, so a replayed job finds its turn written.
        sessions.add_turn(envelope.session_id, f"{envelope.created_at}#{envelope.job_id}", turn)
        jobs.complete(
            envelope,
            status=status,
            route=route,
            answer=text,
            sources=sources,
            evaluation=evaluation,
            generation=generation,
        )
        return {"status": status.value}

    result = run_step("persist", state, step, jobs=jobs, publisher=publisher)
    envelope = envelope_of(state)
    raw_evaluation = state.get("evaluation")
    evaluation: Mapping[str, Any] = raw_evaluation if isinstance(raw_evaluation, Mapping) else {}
    publisher.publish(
        JobEvent(
            type="JobCompleted",
            job_id=envelope.job_id,
            status=status.value,
            attempt=envelope.attempt,
            detail={
                "route": route.value,
                "verdict": evaluation.get("verdict") if route in (Route.DIRECT, Route.RAG) else None,
                "generation": generation_of(state) if route in (Route.DIRECT, Route.RAG) else None,
            },
        )
    )
    return result


def failed_step_of(state: Mapping[str, Any]) -> str:
    """The step that failed: the first one whose output is missing from the state the Catch kept."""
    if "classification" not in state:
        return "classify"
    try:
        route = route_of(state)
    except Exception:
        return "classify"
    if route in (Route.HUMAN_REVIEW, Route.BLOCKED):
        return "persist"
    if route is Route.RAG and "retrieval" not in state:
        return "retrieve"
    for name in ("answer", "evaluate"):
        if STATE_KEYS[name] not in state:
            return name
    return "persist"


def fail_step(state: State, *, jobs: JobRepository, publisher: EventPublisher) -> State:
    """The Catch target: mark the job FAILED with the error and announce JobFailed; returns the state."""
    envelope = envelope_of(state)
    raw = state.get("error")
    error_info: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    error_type = str(error_info.get("Error") or "Unknown")
    message = str(error_info.get("Cause") or "")[:500]
    step = failed_step_of(state)
    error = {"type": error_type, "message": message, "step": step}
    # Keep the timing run_step may already have recorded for the failing step.
    job = jobs.get(envelope.job_id)
    earlier = next((record for record in job.steps if record.name == step), None) if job else None
    failed = StepRecord(
        name=step,
        status="FAILED",
        ms=earlier.ms if earlier else None,
        started_at=earlier.started_at if earlier else None,
    )
    jobs.mark_failed(envelope, error, failed)
    detail: dict[str, Any] = {"step": step, "error": error_type}
    if "classification" in state:
        try:
            detail["route"] = route_of(state).value
        except Exception:
            logger.warning("unreadable classification in a failed state", extra={"job_id": envelope.job_id})
    publisher.publish(
        JobEvent(
            type="JobFailed",
            job_id=envelope.job_id,
            step=step,
            status=JobStatus.FAILED.value,
            attempt=envelope.attempt,
            detail=detail,
        )
    )
    return state
