"""Subscriptions and pushes: DynamoDB connections table (moto server) + a loopback @connections endpoint."""

from __future__ import annotations

from endurance import bootstrap
from endurance.domain.models import JobEvent, JobStatus, Route
from endurance.services import audit, notifications

from tests.unit.services.endurance_aws_stack import AwsStack, ManagementApiServer, running_job


def _deps() -> dict[str, object]:
    return {"jobs": bootstrap.jobs(), "connections": bootstrap.connections(), "pusher": bootstrap.pusher()}


def test_progress_and_result_reach_subscribers_and_gone_ones_are_dropped(
    aws: AwsStack, management: ManagementApiServer
) -> None:
    envelope = running_job()
    for cid in ("alive", "left"):
        notifications.connect(cid, connections=bootstrap.connections())
        notifications.subscribe(cid, "job-1", **_deps())  # type: ignore[arg-type]
    assert management.messages_for("alive") == [
        {"type": "subscribed", "job_id": "job-1", "status": "RUNNING"}
    ]
    management.gone.add("left")

    started = JobEvent(type="StepStarted", job_id="job-1", step="classify", status="RUNNING")
    assert notifications.notify_event(started, **_deps()) == 1  # type: ignore[arg-type]
    assert management.messages_for("alive")[-1] == {
        "type": "progress",
        "job_id": "job-1",
        "step": "classify",
        "status": "RUNNING",
    }
    assert bootstrap.connections().connections_for_job("job-1") == ["alive"]
    left_items = aws.client("dynamodb").query(
        TableName=aws.env["CONNECTIONS_TABLE"],
        KeyConditionExpression="connection_id = :c",
        ExpressionAttributeValues={":c": {"S": "left"}},
    )["Items"]
    assert left_items == []

    bootstrap.jobs().complete(
        envelope,
        status=JobStatus.COMPLETED,
        route=Route.DIRECT,
        answer="Hi!",
        sources=[],
        evaluation={"verdict": "pass"},
    )
    notifications.notify_event(JobEvent(type="JobCompleted", job_id="job-1", status="COMPLETED"), **_deps())  # type: ignore[arg-type]
    result = management.messages_for("alive")[-1]
    assert result["type"] == "result" and result["status"] == "COMPLETED" and result["answer"] == "Hi!"
    assert result["evaluation"] == {"verdict": "pass"}


def test_subscribing_to_a_finished_job_gets_the_result_at_once(
    aws: AwsStack, management: ManagementApiServer
) -> None:
    envelope = running_job()
    bootstrap.jobs().complete(
        envelope, status=JobStatus.BLOCKED, route=Route.BLOCKED, answer="No.", sources=[], evaluation=None
    )
    notifications.subscribe("late", "job-1", **_deps())  # type: ignore[arg-type]
    kinds = [m["type"] for m in management.messages_for("late")]
    assert kinds == ["subscribed", "result"]
    assert management.messages_for("late")[-1]["status"] == "BLOCKED"


def test_subscribing_to_an_unknown_job_is_an_error_message(
    aws: AwsStack, management: ManagementApiServer
) -> None:
    notifications.subscribe("c1", "missing", **_deps())  # type: ignore[arg-type]
    (message,) = management.messages_for("c1")
    assert message["type"] == "error" and message["error"]["code"] == "not_found"
    assert bootstrap.connections().connections_for_job("missing") == []


def test_disconnect_forgets_every_item_of_the_connection(
    aws: AwsStack, management: ManagementApiServer
) -> None:
    running_job("job-1")
    running_job("job-2")
    notifications.connect("c1", connections=bootstrap.connections())
    for job_id in ("job-1", "job-2"):
        notifications.subscribe("c1", job_id, **_deps())  # type: ignore[arg-type]
    notifications.disconnect("c1", connections=bootstrap.connections())
    assert aws.client("dynamodb").scan(TableName=aws.env["CONNECTIONS_TABLE"])["Items"] == []


def test_audit_writes_an_event_once_with_a_90_day_ttl(aws: AwsStack) -> None:
    event = JobEvent(type="JobSubmitted", job_id="job-1", status="QUEUED")
    assert audit.record_event(event, audit=bootstrap.audit(), now=1_000_000)
    assert not audit.record_event(event, audit=bootstrap.audit(), now=2_000_000)
    (item,) = bootstrap.audit().list_events("job-1")
    assert item["event_key"] == f"{event.timestamp}#{event.event_id}"
    assert item["expires_at"] == 1_000_000 + 90 * 86400
