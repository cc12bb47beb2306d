"""S3 notifications: matching rules, the record S3 sends, and delivery to functions and queues."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.parser.models import S3Model
from endurance_local.event_sources import EventSources
from endurance_local.event_sources.s3 import (
    build_s3_record,
    encode_key,
    event_name_matches,
    source_matches,
)
from endurance_local.model import Deployment, InvocationType, InvokeResult, S3EventSource

from tests.support import InProcessInvoker, moto_server


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    yield from moto_server()


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def deployment(*sources: S3EventSource) -> Deployment:
    return Deployment(template_path=Path("template.yaml"), resources={}, s3_sources=list(sources))


def docs_source(**overrides: Any) -> S3EventSource:
    values: dict[str, Any] = {
        "function": "Ingest",
        "queue_arn": None,
        "bucket": "docs",
        "events": ["s3:ObjectCreated:*"],
    }
    values.update(overrides)
    return S3EventSource(**values)


@pytest.mark.parametrize(
    ("pattern", "event_name", "expected"),
    [
        ("s3:ObjectCreated:*", "ObjectCreated:Put", True),
        ("s3:ObjectCreated:*", "s3:ObjectCreated:CompleteMultipartUpload", True),
        ("s3:ObjectCreated:*", "ObjectRemoved:Delete", False),
        ("s3:ObjectRemoved:Delete", "ObjectRemoved:Delete", True),
        ("s3:ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated", False),
        ("s3:ObjectRemoved:*", "ObjectRemoved:DeleteMarkerCreated", True),
        ("s3:ObjectCreated:Put", "ObjectCreated:Copy", False),
    ],
)
def test_event_name_patterns(pattern: str, event_name: str, expected: bool) -> None:
    assert event_name_matches(pattern, event_name) is expected


def test_bucket_prefix_and_suffix_filter_the_raw_key() -> None:
    source = docs_source(prefix="uploads/", suffix=".md")
    assert source_matches(source, "ObjectCreated:Put", "docs", "uploads/my notes.md")
    assert not source_matches(source, "ObjectCreated:Put", "docs", "other/my notes.md")
    assert not source_matches(source, "ObjectCreated:Put", "docs", "uploads/notes.txt")
    assert not source_matches(source, "ObjectCreated:Put", "other-bucket", "uploads/notes.md")
    assert not source_matches(source, "ObjectRemoved:Delete", "docs", "uploads/notes.md")


def test_keys_are_url_encoded_like_s3() -> None:
    assert encode_key("uploads/my notes (v2).md") == "uploads/my+notes+%28v2%29.md"
    assert encode_key("a+b=c.txt") == "a%2Bb%3Dc.txt"
    assert unquote_plus(encode_key("dir/ünï cödé.txt")) == "dir/ünï cödé.txt"


def test_created_record_parses_with_powertools() -> None:
    record = build_s3_record(docs_source(), "ObjectCreated:Put", "docs", "a dir/b c.md", 12, '"0123abcd"')
    event = {"Records": [record]}
    parsed = S3Model.model_validate(event)
    s3 = parsed.Records[0].s3
    assert parsed.Records[0].eventName == "ObjectCreated:Put"
    assert parsed.Records[0].eventVersion == "2.1"
    assert (s3.bucket.name, s3.bucket.arn) == ("docs", "arn:aws:s3:::docs")
    assert (s3.object.key, s3.object.size, s3.object.eTag) == ("a+dir/b+c.md", 12, "0123abcd")
    assert S3Event(event).object_key == "a dir/b c.md"  # Powertools decodes it back


def test_removed_record_has_no_size_or_etag_and_sequencers_grow() -> None:
    source = docs_source(events=["s3:ObjectRemoved:*"])
    first = build_s3_record(source, "s3:ObjectRemoved:Delete", "docs", "a.md", None, None)
    second = build_s3_record(source, "ObjectRemoved:Delete", "docs", "a.md", None, None)
    S3Model.model_validate({"Records": [first, second]})
    assert first["eventName"] == "ObjectRemoved:Delete"
    assert set(first["s3"]["object"]) == {"key", "sequencer"}
    assert int(second["s3"]["object"]["sequencer"], 16) > int(first["s3"]["object"]["sequencer"], 16)


def test_function_targets_are_invoked_asynchronously_with_matching_events_only(endpoint: str) -> None:
    invoker = InProcessInvoker({"Ingest": lambda event: None, "Purge": lambda event: None})
    sources = EventSources(
        deployment(
            docs_source(prefix="docs/"),
            docs_source(function="Purge", events=["s3:ObjectRemoved:Delete"]),
        ),
        invoker,
        endpoint,
    )
    s3 = client("s3", endpoint)
    bucket = "docs"
    s3.create_bucket(Bucket=bucket)
    put = s3.put_object(Bucket=bucket, Key="docs/guide one.md", Body=b"# Guide")
    sources.on_s3_event("ObjectCreated:Put", bucket, "docs/guide one.md", 7, put["ETag"])
    sources.on_s3_event("ObjectCreated:Put", bucket, "elsewhere/guide.md", 7, put["ETag"])
    sources.on_s3_event("ObjectRemoved:Delete", bucket, "docs/guide one.md", None, None)

    assert [(name, kind) for name, _, kind in invoker.calls] == [("Ingest", "Event"), ("Purge", "Event")]
    created = S3Model.model_validate(invoker.calls[0][1]).Records[0]
    assert created.s3.object.key == "docs/guide+one.md"
    assert created.s3.object.eTag == put["ETag"].strip('"')
    assert invoker.calls[1][1]["Records"][0]["eventName"] == "ObjectRemoved:Delete"


def test_queue_target_receives_the_notification(endpoint: str) -> None:
    sqs = client("sqs", endpoint)
    name = f"uploads-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:123456789012:{name}"
    invoker = InProcessInvoker({})
    sources = EventSources(
        deployment(docs_source(function=None, queue_arn=arn, suffix=".pdf")), invoker, endpoint
    )
    sources.on_s3_event("ObjectCreated:Put", "docs", "report.pdf", 2048, "abc123")
    sources.on_s3_event("ObjectCreated:Put", "docs", "report.txt", 10, "def456")

    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert len(messages) == 1
    parsed = S3Model.model_validate(json.loads(messages[0]["Body"]))
    assert (parsed.Records[0].s3.object.key, parsed.Records[0].s3.object.size) == ("report.pdf", 2048)
    assert invoker.calls == []


def test_a_failing_target_neither_raises_nor_blocks_the_others(endpoint: str) -> None:
    class RaisingInvoker(InProcessInvoker):
        """The host itself fails for one function (as when it cannot import it)."""

        def invoke(
            self, function: str, payload: bytes, invocation_type: InvocationType = "RequestResponse"
        ) -> InvokeResult:
            if function == "Missing":
                raise KeyError(function)
            return super().invoke(function, payload, invocation_type)

    logs: list[str] = []
    invoker = RaisingInvoker({"Ingest": lambda event: None})
    sources = EventSources(
        deployment(docs_source(function="Missing"), docs_source()), invoker, endpoint, logs.append
    )
    sources.on_s3_event("ObjectCreated:Put", "docs", "a.md", 1, "e")
    assert [name for name, _, _ in invoker.calls] == ["Ingest"]
    assert any("Missing" in line for line in logs)
