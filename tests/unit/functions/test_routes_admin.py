"""The admin routes (functions/api/routes_admin.py) through the API handler, on a real moto server.

The jobs table is recreated with the `by_status` index exactly as template.yaml declares it, so the query
the route makes is checked against the index CloudFormation would create.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from endurance import bootstrap
from endurance.domain.models import Job, JobEnvelope, JobStatus
from endurance_local.template_yaml import load_template

from tests.unit.services.endurance_aws_stack import AwsStack, http_event, invoke

ROOT = Path(__file__).resolve().parents[3]


def call(
    method: str,
    path: str,
    body: Any = None,
    *,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    raw: str | None = None,
) -> tuple[int, Any]:
    text = raw if raw is not None else (None if body is None else json.dumps(body))
    event = http_event(method, path, body=text, headers=headers)
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{key}={value}" for key, value in query.items())
    response = invoke("api", event)
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


def error_of(result: tuple[int, Any]) -> tuple[int, str]:
    return result[0], result[1]["error"]["code"]


@pytest.fixture
def admin(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsStack]:
    """The aws stack with the template's jobs table (and its GSI) and the stack's queues scoped."""
    jobs_table = load_template(ROOT / "template.yaml")["Resources"]["JobsTable"]["Properties"]
    dynamodb = aws.client("dynamodb")
    dynamodb.delete_table(TableName=aws.env["JOBS_TABLE"])
    dynamodb.create_table(
        TableName=aws.env["JOBS_TABLE"],
        KeySchema=jobs_table["KeySchema"],
        AttributeDefinitions=jobs_table["AttributeDefinitions"],
        GlobalSecondaryIndexes=jobs_table["GlobalSecondaryIndexes"],
        BillingMode="PAY_PER_REQUEST",
    )
    urls = [aws.queue_url(name) for name in ("intake", "intake-dlq", "failed-jobs")]
    monkeypatch.setenv("ADMIN_QUEUE_URLS", ",".join(urls))
    monkeypatch.delenv("ADMIN_TOKEN", raising=False)
    bootstrap.reset(clients=False)
    yield aws


def make_job(job_id: str, status: JobStatus, created_at: str, **fields: Any) -> Job:
    job = Job(
        job_id=job_id,
        status=JobStatus.QUEUED,
        question=f"question of {job_id}",
        session_id="s-admin",
        created_at=created_at,
    )
    jobs = bootstrap.jobs()
    jobs.create(job)
    envelope = JobEnvelope(
        job_id=job_id, question=job.question, session_id="s-admin", created_at=created_at, attempt=1
    )
    if status is JobStatus.FAILED:
        jobs.mark_failed(envelope, fields.get("error", {"type": "FaultInjected", "message": "boom"}))
    elif status is not JobStatus.QUEUED:
        jobs._update(job_id, "SET #s = :s", {"#s": "status"}, {":s": status.value})
    return job


def failed_job_in_dlq(aws: AwsStack, job_id: str, created_at: str = "2026-01-01T00:00:00.000Z") -> None:
    make_job(
        job_id,
        JobStatus.FAILED,
        created_at,
        error={"type": "FaultInjected", "message": "fault injected in step answer", "step": "answer"},
    )
    envelope = JobEnvelope(
        job_id=job_id, question=f"question of {job_id}", session_id="s-admin", created_at=created_at
    )
    aws.client("sqs").send_message(
        QueueUrl=aws.queue_url("failed-jobs"), MessageBody=envelope.model_dump_json()
    )


def depth(aws: AwsStack, queue: str) -> int:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=aws.queue_url(queue),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


# ---------------------------------------------------------------- DLQs


def test_lists_the_stacks_dead_letter_queues_with_their_sources(admin: AwsStack) -> None:
    failed_job_in_dlq(admin, "job-a")
    status, body = call("GET", "/v1/admin/dlqs")
    assert status == 200
    by_name = {dlq["queue"]: dlq for dlq in body["dlqs"]}
    assert set(by_name) == {"intake-dlq", "failed-jobs"}
    assert by_name["failed-jobs"]["source"] == "intake"
    assert by_name["intake-dlq"]["source"] == "intake"
    assert by_name["failed-jobs"]["messages"] == 1 and by_name["intake-dlq"]["messages"] == 0


def test_queues_of_other_stacks_are_not_looked_at(admin: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    sqs = admin.client("sqs")
    foreign_dlq = sqs.create_queue(QueueName="other-stack-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=foreign_dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.create_queue(
        QueueName="other-stack-queue",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})},
    )
    assert "other-stack-dlq" not in {d["queue"] for d in call("GET", "/v1/admin/dlqs")[1]["dlqs"]}
    assert error_of(call("GET", "/v1/admin/dlqs/other-stack-dlq/messages")) == (404, "not_found")
    # Without the scope (a deployment that does not set it) every queue of the endpoint is considered.
    monkeypatch.delenv("ADMIN_QUEUE_URLS")
    assert "other-stack-dlq" in {d["queue"] for d in call("GET", "/v1/admin/dlqs")[1]["dlqs"]}


def test_peek_shows_error_job_and_age_and_loses_nothing(admin: AwsStack) -> None:
    failed_job_in_dlq(admin, "job-peek")
    admin.client("sqs").send_message(QueueUrl=admin.queue_url("intake-dlq"), MessageBody="{not a job")
    time.sleep(1.1)  # an age of at least one second

    status, body = call("GET", "/v1/admin/dlqs/failed-jobs/messages")
    assert status == 200
    assert (body["queue"], body["source"], body["depth"]) == ("failed-jobs", "intake", 1)
    (message,) = body["messages"]
    assert message["job_id"] == "job-peek" and message["kind"] == "failed_job"
    assert message["error"] == {
        "type": "FaultInjected",
        "message": "fault injected in step answer",
        "step": "answer",
    }
    assert message["age_seconds"] >= 1 and message["sent_at"].endswith("Z")
    assert message["replay_count"] == 0 and "job-peek" in message["body_preview"]

    (poison,) = call("GET", "/v1/admin/dlqs/intake-dlq/messages")[1]["messages"]
    assert poison["kind"] == "unreadable" and poison["job_id"] is None
    assert poison["error"]["type"] == "UnreadableMessage"

    # Peeking again at once sees the same messages: they were given back, not hidden or deleted.
    again = call("GET", "/v1/admin/dlqs/failed-jobs/messages")[1]["messages"]
    assert [m["message_id"] for m in again] == [message["message_id"]]
    assert depth(admin, "failed-jobs") == 1 and depth(admin, "intake-dlq") == 1


def test_peek_limit_and_unknown_queue(admin: AwsStack) -> None:
    for index in range(12):
        failed_job_in_dlq(admin, f"job-{index:02d}")
    status, body = call("GET", "/v1/admin/dlqs/failed-jobs/messages", query={"limit": "11"})
    assert status == 200 and len(body["messages"]) == 11
    assert len(call("GET", "/v1/admin/dlqs/failed-jobs/messages")[1]["messages"]) == 12
    assert error_of(call("GET", "/v1/admin/dlqs/failed-jobs/messages", query={"limit": "0"})) == (
        422,
        "invalid_request",
    )
    assert error_of(call("GET", "/v1/admin/dlqs/failed-jobs/messages", query={"limit": "x"}))[0] == 422
    assert error_of(call("GET", "/v1/admin/dlqs/intake/messages")) == (404, "not_found")
    assert depth(admin, "failed-jobs") == 12


def test_replay_previews_then_restarts_failed_jobs(admin: AwsStack) -> None:
    failed_job_in_dlq(admin, "job-r1")
    failed_job_in_dlq(admin, "job-r2")

    status, preview = call("POST", "/v1/admin/dlqs/failed-jobs/replay", {"dry_run": True})
    assert status == 200 and preview["dry_run"] is True and preview["replayed"] == 0
    assert {m["job_id"] for m in preview["messages"]} == {"job-r1", "job-r2"}
    assert depth(admin, "failed-jobs") == 2 and depth(admin, "intake") == 0

    status, one = call("POST", "/v1/admin/dlqs/failed-jobs/replay", {"max": 1})
    assert status == 200 and one["replayed"] == 1 and one["source"] == "intake"
    (replayed,) = one["messages"]
    assert replayed["attempt"] == 2
    job = bootstrap.jobs().get(replayed["job_id"])
    assert job is not None and job.status is JobStatus.QUEUED and job.attempt == 2 and job.error is None
    (sent,) = admin.drain("intake", expect=1)
    assert json.loads(sent["Body"])["job_id"] == replayed["job_id"]
    assert sent["MessageAttributes"]["replay_count"]["StringValue"] == "1"

    status, rest = call("POST", "/v1/admin/dlqs/failed-jobs/replay", raw="")
    assert status == 200 and rest["replayed"] == 1 and rest["dry_run"] is False
    assert depth(admin, "failed-jobs") == 0


def test_replay_of_one_chosen_job(admin: AwsStack) -> None:
    failed_job_in_dlq(admin, "job-keep")
    failed_job_in_dlq(admin, "job-pick")
    status, one = call("POST", "/v1/admin/dlqs/failed-jobs/replay", {"job_id": "job-pick"})
    assert status == 200 and one["replayed"] == 1
    assert [m["job_id"] for m in one["messages"]] == ["job-pick"]
    (sent,) = admin.drain("intake", expect=1)
    assert json.loads(sent["Body"])["job_id"] == "job-pick"
    assert depth(admin, "failed-jobs") == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{not json", (400, "invalid_json")),
        ("[1]", (400, "invalid_json")),
        (json.dumps({"max": 0}), (422, "invalid_request")),
        (json.dumps({"max": 101}), (422, "invalid_request")),
        (json.dumps({"max": "3"}), (422, "invalid_request")),
        (json.dumps({"dry_run": "yes"}), (422, "invalid_request")),
        (json.dumps({"maximum": 3}), (422, "invalid_request")),
        ("x" * (17 * 1024), (413, "payload_too_large")),
    ],
)
def test_replay_rejects_bad_bodies(admin: AwsStack, raw: str, expected: tuple[int, str]) -> None:
    failed_job_in_dlq(admin, "job-bad-body")
    assert error_of(call("POST", "/v1/admin/dlqs/failed-jobs/replay", raw=raw)) == expected
    assert depth(admin, "failed-jobs") == 1


def test_replay_of_a_queue_that_is_no_dlq_is_404(admin: AwsStack) -> None:
    result = call("POST", "/v1/admin/dlqs/intake/replay", {"max": 1})
    assert error_of(result) == (404, "not_found")
    assert "not a dead-letter queue" in result[1]["error"]["message"]


# ---------------------------------------------------------------- recent jobs


def test_recent_jobs_newest_first_with_status_filter_and_limit(admin: AwsStack) -> None:
    make_job("j1", JobStatus.COMPLETED, "2026-01-01T10:00:00.000Z")
    make_job("j2", JobStatus.FAILED, "2026-01-01T11:00:00.000Z")
    make_job("j3", JobStatus.COMPLETED, "2026-01-01T12:00:00.000Z")
    make_job("j4", JobStatus.BLOCKED, "2026-01-01T13:00:00.000Z")
    make_job("j5", JobStatus.QUEUED, "2026-01-01T14:00:00.000Z")

    status, body = call("GET", "/v1/admin/jobs")
    assert status == 200
    assert [job["job_id"] for job in body["jobs"]] == ["j5", "j4", "j3", "j2", "j1"]
    assert body["count"] == 5 and body["status"] is None and body["limit"] == 50

    completed = call("GET", "/v1/admin/jobs", query={"status": "COMPLETED"})[1]
    assert [job["job_id"] for job in completed["jobs"]] == ["j3", "j1"]
    assert completed["status"] == "COMPLETED"

    newest = call("GET", "/v1/admin/jobs", query={"limit": "2"})[1]
    assert [job["job_id"] for job in newest["jobs"]] == ["j5", "j4"]

    failed = call("GET", "/v1/admin/jobs", query={"status": "FAILED"})[1]["jobs"][0]
    assert failed["error"]["type"] == "FaultInjected"
    assert failed["question"] == "question of j2" and failed["session_id"] == "s-admin"
    assert set(failed) == {
        "job_id",
        "status",
        "question",
        "session_id",
        "created_at",
        "updated_at",
        "route",
        "attempt",
        "steps",
        "evaluation",
        "error",
    }
    assert call("GET", "/v1/admin/jobs", query={"status": ""})[1]["count"] == 5


def test_recent_jobs_carry_steps_in_pipeline_order_and_the_evaluation(admin: AwsStack) -> None:
    from endurance.domain.models import Route, Source, StepRecord

    make_job("jx", JobStatus.RUNNING, "2026-02-01T00:00:00.000Z")
    jobs = bootstrap.jobs()
    for name in ("persist", "classify", "answer"):
        jobs.record_step("jx", StepRecord(name=name, status="COMPLETED", ms=12.5))
    envelope = JobEnvelope(
        job_id="jx", question="q", session_id="s-admin", created_at="2026-02-01T00:00:00.000Z"
    )
    jobs.complete(
        envelope,
        status=JobStatus.COMPLETED,
        route=Route.RAG,
        answer="a long answer that the list does not need",
        sources=[Source(doc="d.md", section="1. A", chunk_id="d.md#1", score=0.5)],
        evaluation={"faithfulness": 0.75, "verdict": "warn", "reasons": ["r"]},
    )
    (job,) = call("GET", "/v1/admin/jobs", query={"status": "COMPLETED"})[1]["jobs"]
    assert [step["name"] for step in job["steps"]] == ["classify", "answer", "persist"]
    assert job["steps"][0]["ms"] == 12.5
    assert job["evaluation"] == {"faithfulness": 0.75, "verdict": "warn", "reasons": ["r"]}
    assert job["route"] == "rag"
    assert "answer" not in job and "sources" not in job  # not projected into the index


@pytest.mark.parametrize(
    "query",
    [{"status": "DONE"}, {"limit": "0"}, {"limit": "201"}, {"limit": "ten"}, {"colour": "red"}],
)
def test_recent_jobs_rejects_bad_queries(admin: AwsStack, query: dict[str, str]) -> None:
    assert error_of(call("GET", "/v1/admin/jobs", query=query)) == (422, "invalid_request")


# ---------------------------------------------------------------- admin token and the dashboard config


def test_admin_token_guards_admin_routes_only(admin: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TOKEN", "s3cret-token")
    for method, path in [
        ("GET", "/v1/admin/dlqs"),
        ("GET", "/v1/admin/dlqs/failed-jobs/messages"),
        ("POST", "/v1/admin/dlqs/failed-jobs/replay"),
        ("GET", "/v1/admin/jobs"),
    ]:
        assert error_of(call(method, path)) == (401, "unauthorized"), path
        wrong = {"Authorization": "Bearer nope"}
        assert error_of(call(method, path, headers=wrong)) == (403, "forbidden"), path
    good = {"Authorization": "Bearer s3cret-token"}
    assert call("GET", "/v1/admin/jobs", headers=good)[0] == 200
    assert call("GET", "/health")[0] == 200
    assert call("GET", "/config.json")[1]["admin_token_required"] is True


def test_dashboard_config_points_at_this_api_and_the_websocket(admin: AwsStack) -> None:
    status, config = call("GET", "/config.json", headers={"x-forwarded-proto": "https"})
    assert status == 200
    assert config == {
        "api_url": "https://api.example.test",
        "websocket_url": "wss://ws.example.test/prod",
        "admin_token_required": False,
    }
    event = http_event("GET", "/config.json", headers={"x-forwarded-proto": "http"})
    event["requestContext"]["domainName"] = "127.0.0.1:3000"
    response = invoke("api", event)
    assert json.loads(response["body"])["api_url"] == "http://127.0.0.1:3000"
    assert response["headers"]["Cache-Control"] == "no-store"


def test_every_admin_route_of_the_template_is_served(admin: AwsStack) -> None:
    events = load_template(ROOT / "template.yaml")["Resources"]["ApiFunction"]["Properties"]["Events"]
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events.values()}
    admin_routes = {
        route for route in routes if route[1].startswith("/v1/admin") or route[1] == "/config.json"
    }
    assert admin_routes == {
        ("GET", "/config.json"),
        ("GET", "/v1/admin/dlqs"),
        ("GET", "/v1/admin/dlqs/{queue}/messages"),
        ("POST", "/v1/admin/dlqs/{queue}/replay"),
        ("GET", "/v1/admin/jobs"),
    }
    for method, path in admin_routes:
        concrete = path.replace("{queue}", "failed-jobs")
        status, body = call(method, concrete, {} if method == "POST" else None)
        assert status == 200, (path, body)
