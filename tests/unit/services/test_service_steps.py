"""run_step and the step use cases on the real job table and events topic (moto server).

The pipeline functions are small honest stand-ins: the services take them as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from endurance import bootstrap
from endurance.domain.errors import TransientError
from endurance.domain.models import (
    Answer,
    Chunk,
    Classification,
    Evaluation,
    Job,
    JobEnvelope,
    JobStatus,
    Route,
    Source,
    utc_now,
)
from endurance.services import steps

from tests.unit.services.endurance_aws_stack import AwsStack


def _classify(question: str) -> Classification:
    if "hello" in question.lower():
        return Classification(route=Route.DIRECT, confidence=0.9, reason="greeting")
    if "lawyer" in question.lower():
        return Classification(route=Route.HUMAN_REVIEW, confidence=0.8, reason="legal advice")
    return Classification(route=Route.RAG, confidence=0.7, reason="documents")


def _retrieve(question: str) -> list[Chunk]:
    return [
        Chunk(chunk_id="c1", doc="budget.md", section="2. Budget", text="The budget is 5 million.", score=0.8)
    ]


def _answer(question: str, chunks: list[Chunk], route: Route) -> Answer:
    if not chunks:
        return Answer(text="Hello! Ask me about the documents.")
    sources = [Source(doc=c.doc, section=c.section, chunk_id=c.chunk_id, score=c.score) for c in chunks]
    return Answer(text=f"{chunks[0].text} [1]", sources=sources)


def _evaluate(question: str, contexts: Sequence[str], answer: str) -> Evaluation:
    grounded = any(answer.startswith(context) for context in contexts)
    return Evaluation(
        faithfulness=1.0 if grounded else None, verdict="pass" if grounded or not contexts else "warn"
    )


def _new_job(question: str, job_id: str = "job-1") -> dict[str, Any]:
    envelope = JobEnvelope(job_id=job_id, question=question, session_id="sess-1", created_at=utc_now())
    bootstrap.jobs().create(
        Job(
            job_id=job_id,
            status=JobStatus.RUNNING,
            question=question,
            session_id="sess-1",
            created_at=envelope.created_at,
        )
    )
    return {"job": envelope.model_dump(mode="json")}


def _deps() -> dict[str, Any]:
    return {"jobs": bootstrap.jobs(), "publisher": bootstrap.publisher()}


def _run_pipeline(state: dict[str, Any]) -> dict[str, Any]:
    state = steps.classify_step(state, classify=_classify, **_deps())
    state = steps.retrieve_step(state, retrieve=_retrieve, **_deps())
    state = steps.answer_step(state, answer=_answer, **_deps())
    state = steps.evaluate_step(state, evaluate=_evaluate, **_deps())
    return steps.persist_step(state, sessions=bootstrap.sessions(), **_deps())


def test_rag_job_runs_through_every_step(aws: AwsStack) -> None:
    final = _run_pipeline(_new_job("What is the budget?"))
    assert final["classification"]["route"] == "rag"
    assert final["retrieval"]["chunks"][0]["chunk_id"] == "c1"
    assert final["answer"] == {
        "text": "The budget is 5 million. [1]",
        "citations": [1],
        "sources": [
            {
                "doc": "budget.md",
                "section": "2. Budget",
                "chunk_id": "c1",
                "score": 0.8,
                "text": "The budget is 5 million.",
            }
        ],
        "refusal": False,
        "provider": "offline",
        "model": "extractive",
        "tokens_in": 0,
        "tokens_out": 0,
        "latency_ms": 0.0,
        "cost_usd": 0.0,
    }
    assert final["evaluation"]["verdict"] == "pass" and final["result"] == {"status": "COMPLETED"}

    job = bootstrap.jobs().get("job-1")
    assert job is not None and job.status is JobStatus.COMPLETED and job.route is Route.RAG
    assert job.answer == "The budget is 5 million. [1]" and job.sources[0].chunk_id == "c1"
    assert [(s.name, s.status) for s in job.steps] == [
        (name, "COMPLETED") for name in ("classify", "retrieve", "answer", "evaluate", "persist")
    ]
    assert all(s.ms is not None and s.ms >= 0 for s in job.steps)

    events = aws.events()
    assert [(e["type"], e["step"], e["status"]) for e in events][-3:] == [
        ("StepStarted", "persist", "RUNNING"),
        ("StepCompleted", "persist", "COMPLETED"),
        ("JobCompleted", None, "COMPLETED"),
    ]
    assert all(e["_type_attribute"] == e["type"] for e in events)
    assert events[-1]["detail"] == {
        "route": "rag",
        "verdict": "pass",
        "generation": {
            "provider": "offline",
            "model": "extractive",
            "tokens_in": 0,
            "tokens_out": 0,
            "latency_ms": 0.0,
            "cost_usd": 0.0,
        },
    }
    assert len([e for e in events if e["type"] == "StepCompleted"]) == 5


def test_direct_route_skips_retrieval(aws: AwsStack) -> None:
    final = _run_pipeline(_new_job("hello there"))
    assert "retrieval" not in final
    assert final["answer"]["text"].startswith("Hello")
    assert [s.name for s in bootstrap.jobs().get("job-1").steps] == [  # type: ignore[union-attr]
        "classify",
        "answer",
        "evaluate",
        "persist",
    ]


def test_human_review_persists_the_fixed_message(aws: AwsStack) -> None:
    state = steps.classify_step(
        _new_job("Should I call a lawyer about my case?"), classify=_classify, **_deps()
    )
    final = steps.persist_step(state, sessions=bootstrap.sessions(), **_deps())
    job = bootstrap.jobs().get("job-1")
    assert final["result"] == {"status": "NEEDS_HUMAN"}
    assert (
        job is not None and job.status is JobStatus.NEEDS_HUMAN and job.answer == steps.HUMAN_REVIEW_MESSAGE
    )


def test_persist_replay_writes_the_turn_once(aws: AwsStack) -> None:
    state = _run_pipeline(_new_job("What is the budget?"))
    replayed = {key: value for key, value in state.items() if key != "result"}
    replayed["job"] = {**replayed["job"], "attempt": 2}
    steps.persist_step(replayed, sessions=bootstrap.sessions(), **_deps())
    turns = bootstrap.sessions().list_turns("sess-1")
    assert len(turns) == 1 and turns[0]["job_id"] == "job-1" and turns[0]["status"] == "COMPLETED"
    assert turns[0]["turn_key"] == f"{state['job']['created_at']}#job-1"


def test_failure_records_the_step_and_keeps_the_class_name(aws: AwsStack) -> None:
    state = _new_job("What is the budget?")

    def throttled(question: str) -> Classification:
        raise TransientError("throttled")

    with pytest.raises(TransientError):
        steps.classify_step(state, classify=throttled, **_deps())
    job = bootstrap.jobs().get("job-1")
    assert job is not None and [(s.name, s.status) for s in job.steps] == [("classify", "FAILED")]
    assert [(e["type"], e["status"]) for e in aws.events()] == [
        ("StepStarted", "RUNNING"),
        ("StepCompleted", "FAILED"),
    ]
    # A retry that succeeds overwrites the record: one entry per step, never two.
    steps.classify_step(state, classify=_classify, **_deps())
    assert [(s.name, s.status) for s in bootstrap.jobs().get("job-1").steps] == [  # type: ignore[union-attr]
        ("classify", "COMPLETED")
    ]


def test_fault_injection_needs_marker_and_switch(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    state = _new_job("What is the budget? [[fail:classify]]")
    assert steps.classify_step(state, classify=_classify, **_deps())["classification"]["route"] == "rag"
    monkeypatch.setenv(steps.FAULT_INJECTION_ENV, "1")
    with pytest.raises(steps.FaultInjected):
        steps.classify_step(state, classify=_classify, **_deps())


def test_fail_step_marks_job_failed_with_the_error(aws: AwsStack) -> None:
    state = steps.classify_step(_new_job("What is the budget?"), classify=_classify, **_deps())
    state = steps.retrieve_step(state, retrieve=_retrieve, **_deps())
    aws.events()
    cause = "x" * 900
    returned = steps.fail_step({**state, "error": {"Error": "FaultInjected", "Cause": cause}}, **_deps())
    assert returned["error"]["Error"] == "FaultInjected"
    job = bootstrap.jobs().get("job-1")
    assert job is not None and job.status is JobStatus.FAILED
    assert job.error == {"type": "FaultInjected", "message": "x" * 500, "step": "answer"}
    assert ("answer", "FAILED") in [(s.name, s.status) for s in job.steps]
    (event,) = aws.events()
    assert (event["type"], event["step"], event["detail"]) == (
        "JobFailed",
        "answer",
        {"step": "answer", "error": "FaultInjected", "route": "rag"},
    )


@pytest.mark.parametrize(
    ("keys", "route", "expected"),
    [
        ((), None, "classify"),
        (("classification",), "rag", "retrieve"),
        (("classification",), "direct", "answer"),
        (("classification",), "blocked", "persist"),
        (("classification", "retrieval", "answer"), "rag", "evaluate"),
        (("classification", "retrieval", "answer", "evaluation"), "rag", "persist"),
    ],
)
def test_failed_step_is_the_first_missing_output(
    keys: tuple[str, ...], route: str | None, expected: str
) -> None:
    state: dict[str, Any] = {key: {} for key in keys}
    if route:
        state["classification"] = {"route": route, "confidence": 1.0, "reason": "r"}
    assert steps.failed_step_of(state) == expected
