"""The HTTP API handler with payload-2.0 events, on moto: every route and every status it promises."""

from __future__ import annotations

import json
from typing import Any

import pytest
from endurance import bootstrap
from endurance.domain.models import JobStatus

from tests.unit.services.endurance_aws_stack import AwsStack, http_event, invoke


def call(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: str | None = None,
    base64_body: bool = False,
) -> tuple[int, Any]:
    text = raw if raw is not None else (None if body is None else json.dumps(body))
    response = invoke("api", http_event(method, path, body=text, headers=headers, base64_body=base64_body))
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


def error_code(result: tuple[int, Any]) -> tuple[int, str]:
    return result[0], result[1]["error"]["code"]


def test_health(aws: AwsStack) -> None:
    assert call("GET", "/health") == (200, {"status": "ok"})


def test_chat_accepts_a_job_and_queues_it(aws: AwsStack) -> None:
    status, body = call("POST", "/v1/chat", {"question": "What is the budget?", "session_id": "s-1"})
    assert status == 202
    assert body == {
        "job_id": body["job_id"],
        "session_id": "s-1",
        "status": "QUEUED",
        "status_url": f"/v1/jobs/{body['job_id']}",
        "websocket_url": "wss://ws.example.test/prod",
    }
    (message,) = aws.drain("intake", expect=1)
    assert json.loads(message["Body"])["job_id"] == body["job_id"]
    status, job = call("GET", body["status_url"])
    assert status == 200 and job["status"] == "QUEUED" and job["question"] == "What is the budget?"
    assert {
        "job_id",
        "status",
        "route",
        "question",
        "answer",
        "sources",
        "evaluation",
        "steps",
        "error",
    } <= set(job)


def test_chat_base64_body_and_new_session(aws: AwsStack) -> None:
    status, body = call("POST", "/v1/chat", {"question": "hello"}, base64_body=True)
    assert status == 202 and len(body["session_id"]) == 32


def test_idempotency_key_replays_and_conflicts(aws: AwsStack) -> None:
    headers = {"Idempotency-Key": "abc-123"}
    first = call("POST", "/v1/chat", {"question": "q1", "session_id": "s"}, headers=headers)
    again = call("POST", "/v1/chat", {"question": "q1", "session_id": "s"}, headers=headers)
    assert first[0] == again[0] == 202 and first[1] == again[1]
    assert len(aws.drain("intake", expect=1)) == 1
    assert error_code(call("POST", "/v1/chat", {"question": "q2", "session_id": "s"}, headers=headers)) == (
        409,
        "conflict",
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (json.dumps({"question": ""}), (422, "invalid_request")),
        (json.dumps({"question": "   "}), (422, "invalid_request")),
        (json.dumps({"question": "x" * 4001}), (422, "invalid_request")),
        (json.dumps({"question": "ok", "extra": 1}), (422, "invalid_request")),
        (json.dumps(["question"]), (422, "invalid_request")),
        ("{not json", (400, "invalid_json")),
        ("", (400, "invalid_json")),
        (json.dumps({"question": "x" * (65 * 1024)}), (413, "payload_too_large")),
    ],
)
def test_chat_rejects_bad_requests_without_queueing(
    aws: AwsStack, raw: str, expected: tuple[int, str]
) -> None:
    assert error_code(call("POST", "/v1/chat", raw=raw)) == expected
    assert aws.drain("intake") == []
    assert aws.client("dynamodb").scan(TableName=aws.env["JOBS_TABLE"])["Items"] == []


def test_chat_answers_503_and_fails_the_job_when_the_queue_is_down(
    aws: AwsStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKE_QUEUE_URL", aws.env["INTAKE_QUEUE_URL"] + "-missing")
    bootstrap.reset(clients=False)
    assert error_code(call("POST", "/v1/chat", {"question": "hello"})) == (503, "unavailable")
    (item,) = aws.client("dynamodb").scan(TableName=aws.env["JOBS_TABLE"])["Items"]
    assert item["status"]["S"] == JobStatus.FAILED


def test_unknown_job_session_and_route_are_404(aws: AwsStack) -> None:
    assert error_code(call("GET", "/v1/jobs/nope")) == (404, "not_found")
    assert error_code(call("GET", "/v1/sessions/nope")) == (404, "not_found")
    assert error_code(call("GET", "/v1/nothing-here")) == (404, "not_found")
    assert error_code(call("DELETE", "/v1/chat")) == (404, "not_found")


def test_session_lists_turns_oldest_first(aws: AwsStack) -> None:
    sessions = bootstrap.sessions()
    for stamp, job_id in (("2026-01-01T00:00:02.000Z", "b"), ("2026-01-01T00:00:01.000Z", "a")):
        sessions.add_turn(
            "s-9",
            f"{stamp}#{job_id}",
            {"job_id": job_id, "question": "q", "answer": "a", "status": "COMPLETED", "created_at": stamp},
        )
    status, body = call("GET", "/v1/sessions/s-9")
    assert status == 200 and [turn["job_id"] for turn in body["turns"]] == ["a", "b"]
    assert set(body["turns"][0]) == {"job_id", "question", "answer", "status", "created_at"}


def test_feedback(aws: AwsStack) -> None:
    _, job = call("POST", "/v1/chat", {"question": "hello"})
    status, body = call("POST", "/v1/feedback", {"job_id": job["job_id"], "rating": "up", "comment": "nice"})
    assert status == 201 and body["job_id"] == job["job_id"] and body["feedback_id"]
    assert error_code(call("POST", "/v1/feedback", {"job_id": "nope", "rating": "up"})) == (404, "not_found")
    assert error_code(call("POST", "/v1/feedback", {"job_id": job["job_id"], "rating": "meh"}))[0] == 422


def test_evaluate(aws: AwsStack) -> None:
    status, body = call(
        "POST",
        "/v1/evaluate",
        {
            "question": "What is the budget?",
            "contexts": ["The budget is 5 million euros."],
            "answer": "The budget is 5 million euros.",
        },
    )
    assert status == 200 and body["verdict"] in {"pass", "warn", "fail"} and "faithfulness" in body
    assert (
        error_code(call("POST", "/v1/evaluate", {"question": "q", "contexts": [1], "answer": "a"}))[0] == 422
    )
    assert (
        error_code(call("POST", "/v1/evaluate", {"question": "q", "contexts": [], "answer": " "}))[0] == 422
    )
    assert (
        error_code(call("POST", "/v1/evaluate", {"question": "q", "contexts": "c", "answer": "a"}))[0] == 422
    )
