"""SQS event sources against a real moto server: batches, partial failures, redrive, FIFO order, stop."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.parser.models import SqsModel
from endurance_local.event_sources import EventSources
from endurance_local.event_sources.sqs import BatchResponseError, failed_message_ids
from endurance_local.model import Deployment, InvocationType, InvokeResult, SqsEventSource

from tests.support import moto_server

Handler = Callable[[dict[str, Any]], Any]
T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float, what: str) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)
    return value


class InProcessInvoker:
    """Runs Python callables as Lambda handlers and records every call (an honest model.Invoker)."""

    def __init__(self, handlers: dict[str, Handler]) -> None:
        self._handlers = handlers
        self._lock = threading.Lock()
        self.calls: list[tuple[str, dict[str, Any], InvocationType, float]] = []

    def invoke(
        self, function: str, payload: bytes, invocation_type: InvocationType = "RequestResponse"
    ) -> InvokeResult:
        event = json.loads(payload)
        with self._lock:
            self.calls.append((function, event, invocation_type, time.monotonic()))
        try:
            result = self._handlers[function](event)
        except Exception as exc:
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            return InvokeResult(json.dumps(error).encode(), function_error="Unhandled")
        return InvokeResult(json.dumps(result).encode())

    def batches(self, function: str | None = None) -> list[list[dict[str, Any]]]:
        with self._lock:
            return [event["Records"] for name, event, _, _ in self.calls if function in (None, name)]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    yield from moto_server()


@pytest.fixture(scope="module")
def sqs(endpoint: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def make_queue(
    sqs: Any, fifo: bool = False, dlq_arn: str | None = None, max_receive: int = 2, visibility_s: int = 1
) -> tuple[str, str]:
    name = f"q-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
    attributes = {"VisibilityTimeout": str(visibility_s)}
    if fifo:
        attributes.update({"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    if dlq_arn:
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive}
        )
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def deployment(*sources: SqsEventSource) -> Deployment:
    return Deployment(template_path=Path("template.yaml"), resources={}, sqs_sources=list(sources))


def queue_depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def running(sources: EventSources) -> EventSources:
    sources.start()
    return sources


def test_event_has_lambdas_shape_and_parses_with_powertools(sqs: Any, endpoint: str) -> None:
    url, arn = make_queue(sqs)
    sqs.send_message(
        QueueUrl=url,
        MessageBody='{"job": 1}',
        MessageAttributes={
            "type": {"DataType": "String", "StringValue": "JobSubmitted"},
            "attempt": {"DataType": "Number", "StringValue": "2"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    invoker = InProcessInvoker({"Fn": lambda event: None})
    sources = running(EventSources(deployment(SqsEventSource("Fn", arn, url)), invoker, endpoint))
    try:
        wait_for(lambda: invoker.calls, timeout=5, what="an invocation")
    finally:
        sources.stop()

    function, event, invocation_type, _ = invoker.calls[0]
    assert (function, invocation_type) == ("Fn", "RequestResponse")
    record = event["Records"][0]
    assert record["body"] == '{"job": 1}'
    assert record["md5OfBody"] == hashlib.md5(b'{"job": 1}').hexdigest()
    assert record["md5OfMessageAttributes"]
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        arn,
        "us-east-1",
    )
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert set(record["attributes"]) >= {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"}
    assert record["messageAttributes"]["type"] == {
        "stringValue": "JobSubmitted",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="
    parsed = SqsModel.model_validate(event)
    assert parsed.Records[0].messageAttributes["attempt"].stringValue == "2"
    data_class = next(iter(SQSEvent(event).records))
    assert data_class.message_attributes["type"].string_value == "JobSubmitted"
    assert data_class.attributes.approximate_receive_count == "1"
    # Deleted after success.
    wait_for(lambda: queue_depth(sqs, url) == 0, timeout=3, what="the queue to empty")


def test_partial_batch_failure_deletes_good_messages_and_redrives_the_poison_one(
    sqs: Any, endpoint: str
) -> None:
    dlq_url, dlq_arn = make_queue(sqs)
    url, arn = make_queue(sqs, dlq_arn=dlq_arn, max_receive=2)
    for body in ("good-1", "poison", "good-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "poison"]
        return {"batchItemFailures": failures}

    invoker = InProcessInvoker({"Fn": handler})
    source = SqsEventSource("Fn", arn, url, batch_size=10, report_batch_item_failures=True)
    sources = running(EventSources(deployment(source), invoker, endpoint))
    try:
        dead = wait_for(
            lambda: sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages"),
            timeout=10,
            what="the poison message in the DLQ",
        )
    finally:
        sources.stop()

    bodies = [record["body"] for batch in invoker.batches() for record in batch]
    assert bodies.count("good-1") == 1
    assert bodies.count("good-2") == 1
    assert bodies.count("poison") == 2  # maxReceiveCount deliveries, then the DLQ
    assert [m["Body"] for m in dead] == ["poison"]
    assert queue_depth(sqs, url) == 0


def test_handler_error_fails_the_whole_batch_and_it_comes_back(sqs: Any, endpoint: str) -> None:
    url, arn = make_queue(sqs)
    for index in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{index}")
    attempts: list[int] = []

    def flaky(event: dict[str, Any]) -> dict[str, Any]:
        attempts.append(len(event["Records"]))
        if len(attempts) == 1:
            raise RuntimeError("downstream is down")
        # Without ReportBatchItemFailures a reported failure means nothing: everything is deleted.
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}

    invoker = InProcessInvoker({"Fn": flaky})
    # Sent before the poller starts, so one receive (no window) returns all three.
    source = SqsEventSource("Fn", arn, url, batch_size=10)
    sources = running(EventSources(deployment(source), invoker, endpoint))
    try:
        wait_for(lambda: len(attempts) >= 2, timeout=8, what="the retry")
        # Deleted, not merely in flight: nothing can come back.
        wait_for(lambda: queue_depth(sqs, url) == 0, timeout=3, what="the queue to empty")
    finally:
        sources.stop()

    first, second = invoker.batches()[:2]
    assert sorted(r["body"] for r in first) == sorted(r["body"] for r in second) == ["m0", "m1", "m2"]
    assert {r["attributes"]["ApproximateReceiveCount"] for r in second} == {"2"}
    assert len(invoker.calls) == 2


def test_batch_size_is_honoured_and_full_batches_do_not_wait_for_the_window(sqs: Any, endpoint: str) -> None:
    url, arn = make_queue(sqs, visibility_s=30)
    for index in range(6):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{index}")
    invoker = InProcessInvoker({"Fn": lambda event: None})
    source = SqsEventSource("Fn", arn, url, batch_size=3, batching_window_s=10)
    sources = running(EventSources(deployment(source), invoker, endpoint))
    started = time.monotonic()
    try:
        wait_for(lambda: len(invoker.calls) >= 2, timeout=5, what="two full batches")
    finally:
        sources.stop()
    assert invoker.calls[1][3] - started < 3
    assert [len(batch) for batch in invoker.batches()] == [3, 3]
    assert sorted(r["body"] for b in invoker.batches() for r in b) == [f"m{i}" for i in range(6)]


def test_batching_window_gathers_messages_until_it_closes(sqs: Any, endpoint: str) -> None:
    # As on AWS, the visibility timeout must exceed the window, or messages come back mid-window.
    url, arn = make_queue(sqs, visibility_s=10)
    invoker = InProcessInvoker({"Fn": lambda event: None})
    source = SqsEventSource("Fn", arn, url, batch_size=5, batching_window_s=1.2)
    sources = running(EventSources(deployment(source), invoker, endpoint))
    try:
        first_sent = time.monotonic()
        for index in range(3):
            sqs.send_message(QueueUrl=url, MessageBody=f"m{index}")
            time.sleep(0.25)
        wait_for(lambda: invoker.calls, timeout=5, what="the batch")
    finally:
        sources.stop()
    assert [len(batch) for batch in invoker.batches()] == [3]
    invoked_at = invoker.calls[0][3]
    assert invoked_at - first_sent >= 1.1


def test_fifo_keeps_order_within_a_group_across_a_retry(sqs: Any, endpoint: str) -> None:
    url, arn = make_queue(sqs, fifo=True)
    for index in range(1, 4):
        for group in ("A", "B"):
            sqs.send_message(QueueUrl=url, MessageBody=f"{group}{index}", MessageGroupId=group)
    processed: list[str] = []
    failed_once: list[bool] = []

    def handler(event: dict[str, Any]) -> None:
        bodies = [r["body"] for r in event["Records"]]
        if "A2" in bodies and not failed_once:
            failed_once.append(True)
            raise RuntimeError("A2 fails the first time")
        processed.extend(bodies)

    invoker = InProcessInvoker({"Fn": handler})
    sources = running(
        EventSources(deployment(SqsEventSource("Fn", arn, url, batch_size=2)), invoker, endpoint)
    )
    try:
        wait_for(lambda: len(processed) >= 6, timeout=10, what="all six messages")
    finally:
        sources.stop()

    assert failed_once
    assert [b for b in processed if b.startswith("A")] == ["A1", "A2", "A3"]
    assert [b for b in processed if b.startswith("B")] == ["B1", "B2", "B3"]
    attributes = invoker.batches()[0][0]["attributes"]
    assert attributes["MessageGroupId"] in ("A", "B")
    assert {"MessageDeduplicationId", "SequenceNumber"} <= set(attributes)
    a2_sequence_numbers = {
        r["attributes"]["SequenceNumber"] for b in invoker.batches() for r in b if r["body"] == "A2"
    }
    assert len(a2_sequence_numbers) == 1  # stable across the redelivery
    SqsModel.model_validate({"Records": invoker.batches()[0]})


def test_fifo_queue_never_has_two_batches_in_flight(sqs: Any, endpoint: str) -> None:
    url, arn = make_queue(sqs, fifo=True)
    for index in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{index}", MessageGroupId=f"g{index}")
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def slow(event: dict[str, Any]) -> None:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.1)
        with lock:
            in_flight -= 1

    invoker = InProcessInvoker({"One": slow, "Two": slow})
    both = deployment(
        SqsEventSource("One", arn, url, batch_size=1), SqsEventSource("Two", arn, url, batch_size=1)
    )
    sources = running(EventSources(both, invoker, endpoint))
    try:
        wait_for(lambda: len(invoker.calls) >= 4, timeout=8, what="four batches")
    finally:
        sources.stop()
    assert peak == 1


def test_sqs_errors_are_retried_and_do_not_kill_the_poller(sqs: Any, endpoint: str) -> None:
    name = f"late-{uuid.uuid4().hex[:12]}"
    url = f"{endpoint}/123456789012/{name}"
    arn = f"arn:aws:sqs:us-east-1:123456789012:{name}"
    logs: list[str] = []
    invoker = InProcessInvoker({"Fn": lambda event: None})
    sources = running(
        EventSources(deployment(SqsEventSource("Fn", arn, url)), invoker, endpoint, logs.append)
    )
    try:
        wait_for(lambda: any("QueueDoesNotExist" in line for line in logs), timeout=5, what="error")
        sqs.create_queue(QueueName=name)
        sqs.send_message(QueueUrl=url, MessageBody="finally")
        wait_for(lambda: invoker.calls, timeout=8, what="the message after the queue appeared")
    finally:
        sources.stop()
    assert invoker.batches()[0][0]["body"] == "finally"


def test_stop_is_prompt(sqs: Any, endpoint: str) -> None:
    queues = [make_queue(sqs) for _ in range(3)]
    invoker = InProcessInvoker({"Fn": lambda event: None})
    sources = running(
        EventSources(deployment(*(SqsEventSource("Fn", arn, url) for url, arn in queues)), invoker, endpoint)
    )
    time.sleep(0.3)
    names = tuple(f"sqs:{url.rsplit('/', 1)[-1]}->" for url, _ in queues)
    before = {thread.name for thread in threading.enumerate() if thread.name.startswith(names)}
    started = time.monotonic()
    sources.stop()
    elapsed = time.monotonic() - started
    after = {thread.name for thread in threading.enumerate() if thread.name.startswith(names)}
    assert len(before) == 3
    assert elapsed < 2.0
    assert not after


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"", set()),
        (b"null", set()),
        (b"{}", set()),
        (b'{"batchItemFailures": []}', set()),
        (b'{"batchItemFailures": null}', set()),
        (b'{"batchItemFailures": [{"itemIdentifier": "b"}]}', {"b"}),
        (b'{"statusCode": 200}', set()),
    ],
)
def test_batch_responses_lambda_accepts(payload: bytes, expected: set[str]) -> None:
    assert failed_message_ids(payload, {"a", "b"}) == expected


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'"ok"',
        b'{"batchItemFailures": {"itemIdentifier": "a"}}',
        b'{"batchItemFailures": [{"itemIdentifier": ""}]}',
        b'{"batchItemFailures": [{"itemIdentifier": null}]}',
        b'{"batchItemFailures": [{"id": "a"}]}',
        b'{"batchItemFailures": [{"itemIdentifier": "unknown"}]}',
    ],
)
def test_batch_responses_that_fail_the_whole_batch(payload: bytes) -> None:
    with pytest.raises(BatchResponseError):
        failed_message_ids(payload, {"a", "b"})


def test_malformed_batch_response_keeps_every_message(sqs: Any, endpoint: str) -> None:
    url, arn = make_queue(sqs)
    for body in ("x", "y"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    invoker = InProcessInvoker(
        {"Fn": lambda event: {"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]}}
    )
    source = SqsEventSource("Fn", arn, url, report_batch_item_failures=True)
    sources = running(EventSources(deployment(source), invoker, endpoint))
    try:
        wait_for(lambda: invoker.calls, timeout=5, what="the invocation")
    finally:
        sources.stop()
    assert sum(len(batch) for batch in invoker.batches()) >= 2
    assert queue_depth(sqs, url) == 2  # nothing was deleted
