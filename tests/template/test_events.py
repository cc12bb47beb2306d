"""The sample events in events/ are what AWS (and the local runtime) would really send.

Each AWS-shaped event parses with the Powertools model its handler uses, its body parses with the domain
model of docs/architecture.md, and it matches the template (routes, buckets, event types, filters).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventV2Model,
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
    S3Model,
    SqsModel,
)
from endurance.domain.models import (
    Answer,
    ChatRequest,
    Chunk,
    Classification,
    Evaluation,
    JobEnvelope,
    JobEvent,
)
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
STEP_KEYS = {
    "classify": {"job"},
    "retrieve": {"job", "classification"},
    "answer": {"job", "classification", "retrieval"},
    "evaluate": {"job", "classification", "retrieval", "answer"},
    "persist": {"job", "classification", "retrieval", "answer", "evaluation"},
}


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def function_of(event_file: Path) -> str:
    return event_file.stem.split("_")[0]


def event_files() -> list[Path]:
    return sorted(EVENTS.glob("*.json"))


def test_every_function_has_a_sample_event_and_every_event_a_function(template: dict[str, Any]) -> None:
    code_dirs = {
        Path(resource["Properties"]["CodeUri"]).name
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert {function_of(path) for path in event_files()} == code_dirs


@pytest.mark.parametrize("name", ["api_post_chat.json", "api_get_job.json"])
def test_http_api_events(name: str, template: dict[str, Any]) -> None:
    event = parse(event=load_event(name), model=APIGatewayProxyEventV2Model)
    routes = {
        f"{e['Properties']['Method']} {e['Properties']['Path']}"
        for e in template["Resources"]["ApiFunction"]["Properties"]["Events"].values()
    }
    assert event.routeKey in routes
    assert event.requestContext.http.method == event.routeKey.split()[0]
    if event.routeKey == "POST /v1/chat":
        request = ChatRequest.model_validate_json(event.body or "")
        assert request.session_id
        assert event.headers["idempotency-key"]
    else:
        assert event.pathParameters == {"job_id": event.rawPath.rsplit("/", 1)[1]}


def test_dispatch_event_carries_job_envelopes() -> None:
    event = parse(event=load_event("dispatch_intake.json"), model=SqsModel)
    for record in event.Records:
        body = json.loads(record.body)
        JobEnvelope.model_validate(body)
        assert record.eventSourceARN.split(":")[-1].startswith("endurance-IntakeQueue")


@pytest.mark.parametrize(
    ("name", "queue"),
    [
        ("notify_job_events.json", "NotifyQueue"),
        ("audit_job_events.json", "AuditQueue"),
        ("metrics_job_events.json", "MetricsQueue"),
    ],
)
def test_job_event_queues_carry_raw_sns_messages(name: str, queue: str, template: dict[str, Any]) -> None:
    event = parse(event=load_event(name), model=SqsModel)
    subscription = next(
        s["Properties"]
        for s in template["Resources"].values()
        if s["Type"] == "AWS::SNS::Subscription" and s["Properties"]["Endpoint"]["Fn::GetAtt"][0] == queue
    )
    allowed_types = subscription.get("FilterPolicy", {}).get("type")
    for record in event.Records:
        job_event = JobEvent.model_validate_json(record.body)
        # Raw delivery turns the SNS message attribute into an SQS one: filters and consumers read it.
        assert record.messageAttributes["type"].stringValue == job_event.type
        assert record.eventSourceARN.split(":")[-1].startswith(f"endurance-{queue}")
        if allowed_types:
            assert job_event.type in allowed_types


@pytest.mark.parametrize("step", sorted(STEP_KEYS))
def test_step_events_have_the_state_shape_of_their_step(step: str) -> None:
    state = load_event(f"{step}.json")
    assert set(state) == STEP_KEYS[step]
    validate_state(state)


def test_persist_human_review_event_skips_the_answer() -> None:
    state = load_event("persist_human_review.json")
    assert set(state) == {"job", "classification"}
    validate_state(state)
    assert state["classification"]["route"] == "human_review"


def test_fail_event_carries_the_caught_error() -> None:
    state = load_event("fail.json")
    validate_state(state)
    assert set(state["error"]) == {"Error", "Cause"}
    cause = json.loads(state["error"]["Cause"])
    assert cause["errorType"] == state["error"]["Error"]


def validate_state(state: dict[str, Any]) -> None:
    models: dict[str, type[BaseModel]] = {
        "job": JobEnvelope,
        "classification": Classification,
        "answer": Answer,
        "evaluation": Evaluation,
    }
    for key, model in models.items():
        if key in state:
            model.model_validate(state[key])
    for chunk in state.get("retrieval", {}).get("chunks", []):
        Chunk.model_validate(chunk)
    if "answer" in state:
        chunk_ids = {c["chunk_id"] for c in state["retrieval"]["chunks"]}
        assert {s["chunk_id"] for s in state["answer"]["sources"]} <= chunk_ids, (
            "sources cite retrieved chunks"
        )


@pytest.mark.parametrize(
    ("name", "model", "route"),
    [
        ("websocket_connect.json", APIGatewayWebSocketConnectEventModel, "$connect"),
        ("websocket_subscribe.json", APIGatewayWebSocketMessageEventModel, "subscribe"),
        ("websocket_disconnect.json", APIGatewayWebSocketDisconnectEventModel, "$disconnect"),
    ],
)
def test_websocket_events(name: str, model: type[BaseModel], route: str, template: dict[str, Any]) -> None:
    raw = load_event(name)
    event = parse(event=raw, model=model)
    routes = {
        r["Properties"]["RouteKey"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
    }
    assert event.request_context.route_key == route
    assert route in routes
    if route == "subscribe":
        body = json.loads(raw["body"])
        assert body["action"] == "subscribe"
        # A subscription names a job the same way the job envelope does.
        JobEnvelope.model_validate({**load_event("classify.json")["job"], "job_id": body["job_id"]})
    if route == "$connect":
        assert raw["queryStringParameters"]["token"]


@pytest.mark.parametrize(
    ("name", "event_name"),
    [
        ("ingest_object_created.json", "ObjectCreated:Put"),
        ("ingest_object_removed.json", "ObjectRemoved:Delete"),
    ],
)
def test_ingest_events(name: str, event_name: str, template: dict[str, Any]) -> None:
    event = parse(event=load_event(name), model=S3Model)
    (record,) = event.Records
    assert record.eventName == event_name
    filters = {
        e["Properties"]["Events"].rsplit(":", 1)[0]
        for e in template["Resources"]["IngestFunction"]["Properties"]["Events"].values()
    }
    assert f"s3:{event_name.split(':')[0]}" in filters
    # `sam local invoke` resolves the bucket name with stack "endurance" in us-east-1, account 123456789012.
    bucket_name = template["Resources"]["DocumentsBucket"]["Properties"]["BucketName"]["Fn::Sub"]
    expected = (
        bucket_name.replace("${AWS::StackName}", "endurance")
        .replace("${AWS::AccountId}", "123456789012")
        .replace("${AWS::Region}", "us-east-1")
    )
    assert record.s3.bucket.name == expected
    if event_name.startswith("ObjectCreated"):
        assert record.s3.object.size and record.s3.object.eTag
