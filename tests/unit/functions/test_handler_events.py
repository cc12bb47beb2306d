"""notify, audit, metrics (SQS events carrying job events) and the WebSocket handler."""

from __future__ import annotations

import json
from typing import Any

import pytest
from endurance import bootstrap
from endurance.domain.models import JobEvent, JobStatus, Route

from tests.unit.services.endurance_aws_stack import (
    AwsStack,
    ManagementApiServer,
    invoke,
    running_job,
    sqs_event,
    websocket_event,
)


def _event(kind: str, **fields: Any) -> str:
    return JobEvent.model_validate({"type": kind, "job_id": "job-1", **fields}).model_dump_json()


def test_websocket_connect_subscribe_and_disconnect(aws: AwsStack, management: ManagementApiServer) -> None:
    running_job()
    assert invoke("websocket", websocket_event("$connect", "c1")) == {"statusCode": 200}
    meta = aws.client("dynamodb").get_item(
        TableName=aws.env["CONNECTIONS_TABLE"], Key={"connection_id": {"S": "c1"}, "sk": {"S": "meta"}}
    )["Item"]
    assert int(meta["expires_at"]["N"]) > 0
    body = json.dumps({"action": "subscribe", "job_id": "job-1"})
    assert invoke("websocket", websocket_event("subscribe", "c1", body)) == {"statusCode": 200}
    assert management.messages_for("c1") == [{"type": "subscribed", "job_id": "job-1", "status": "RUNNING"}]
    assert bootstrap.connections().connections_for_job("job-1") == ["c1"]
    assert invoke("websocket", websocket_event("$disconnect", "c1")) == {"statusCode": 200}
    assert aws.client("dynamodb").scan(TableName=aws.env["CONNECTIONS_TABLE"])["Items"] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{nope", "invalid_json"),
        ("[1]", "invalid_json"),
        (json.dumps({"action": "dance"}), "unknown_action"),
        (json.dumps({"action": "subscribe", "job_id": "../etc"}), "invalid_request"),
        (json.dumps({"action": "subscribe"}), "invalid_request"),
    ],
)
def test_websocket_bad_messages_get_an_error_reply(
    aws: AwsStack, management: ManagementApiServer, body: str, code: str
) -> None:
    assert invoke("websocket", websocket_event("$default", "c2", body)) == {"statusCode": 200}
    (reply,) = management.messages_for("c2")
    assert reply["type"] == "error" and reply["error"]["code"] == code and reply["error"]["message"]


def test_notify_pushes_progress_and_result_and_reports_bad_records(
    aws: AwsStack, management: ManagementApiServer
) -> None:
    envelope = running_job()
    invoke(
        "websocket",
        websocket_event("subscribe", "c1", json.dumps({"action": "subscribe", "job_id": "job-1"})),
    )
    bootstrap.jobs().complete(
        envelope,
        status=JobStatus.COMPLETED,
        route=Route.DIRECT,
        answer="Hi",
        sources=[],
        evaluation={"verdict": "pass"},
    )
    sns_wrapped = json.dumps({"Type": "Notification", "Message": _event("JobCompleted", status="COMPLETED")})
    event = sqs_event(
        [_event("StepCompleted", step="answer", status="COMPLETED"), "not an event", sns_wrapped]
    )
    result = invoke("notify", event)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    progress, final = management.messages_for("c1")[1:]
    assert progress == {"type": "progress", "job_id": "job-1", "step": "answer", "status": "COMPLETED"}
    assert final["type"] == "result" and final["status"] == "COMPLETED" and final["answer"] == "Hi"


def test_notify_drops_gone_connections(aws: AwsStack, management: ManagementApiServer) -> None:
    running_job()
    invoke(
        "websocket",
        websocket_event("subscribe", "gone", json.dumps({"action": "subscribe", "job_id": "job-1"})),
    )
    management.gone.add("gone")
    assert invoke("notify", sqs_event([_event("StepStarted", step="classify", status="RUNNING")])) == {
        "batchItemFailures": []
    }
    assert bootstrap.connections().connections_for_job("job-1") == []


def test_audit_writes_each_event_once(aws: AwsStack) -> None:
    body = _event("StepStarted", step="classify", status="RUNNING")
    event = sqs_event([body, body, "{}"])
    assert invoke("audit", event) == {
        "batchItemFailures": [{"itemIdentifier": event["Records"][2]["messageId"]}]
    }
    (item,) = bootstrap.audit().list_events("job-1")
    assert item["type"] == "StepStarted" and item["expires_at"] > 0


def test_metrics_emits_emf(aws: AwsStack, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    event = sqs_event(
        [
            _event("JobCompleted", status="COMPLETED", detail={"route": "rag", "verdict": "warn"}),
            _event("JobFailed", status="FAILED", detail={"route": "direct", "step": "answer"}),
            _event("StepCompleted", step="retrieve", status="COMPLETED", detail={"ms": 12.5}),
            "garbage",
        ]
    )
    assert invoke("metrics", event) == {
        "batchItemFailures": [{"itemIdentifier": event["Records"][3]["messageId"]}]
    }
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    points = {}
    for document in documents:
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Endurance"
        (metric,) = directive["Metrics"]
        (dimension,) = [name for name in directive["Dimensions"][0] if name != "service"]
        value = document[metric["Name"]]
        points[(metric["Name"], dimension, document[dimension])] = (
            value if isinstance(value, list) else [value]
        )
    assert points == {
        ("JobsCompleted", "route", "rag"): [1.0],
        ("Verdicts", "verdict", "warn"): [1.0],
        ("JobsFailed", "route", "direct"): [1.0],
        ("StepLatency", "step", "retrieve"): [12.5],
    }
