"""Lambda's SQS event-source mapping, emulated: poll a queue, invoke the function, settle the batch.

Lambda's poller receives up to `BatchSize` messages (waiting at most `MaximumBatchingWindowInSeconds`),
invokes the function synchronously, and deletes what succeeded. A failed invocation deletes nothing, so
the messages come back after the visibility timeout and the queue's RedrivePolicy moves them to the DLQ
once their receive count reaches maxReceiveCount (moto 5.2.5 does that on receive, as SQS does).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from endurance_local.model import REGION, Invoker, SqsEventSource

# Long polls are 1 s so that stop() is prompt; the read timeout leaves room for a busy server.
RECEIVE_WAIT_S = 1
MAX_RECEIVE = 10
BACKOFF_INITIAL_S = 0.2
BACKOFF_MAX_S = 5.0
# When a batching window has less than a second left we poll without waiting, this far apart.
SHORT_POLL_PAUSE_S = 0.05


def make_sqs_client(endpoint_url: str) -> Any:
    """A boto3 SQS client on the local endpoint. Built on its own session: sessions are not thread-safe."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    return session.client(
        "sqs",
        endpoint_url=endpoint_url,
        config=Config(
            connect_timeout=2,
            read_timeout=RECEIVE_WAIT_S + 10,
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )


def _region_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else REGION


def _lambda_message_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """boto3's `{"StringValue", "DataType"}` into Lambda's camelCase shape (binary as base64 text)."""
    converted: dict[str, Any] = {}
    for name, value in attributes.items():
        entry: dict[str, Any] = {}
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            raw = value["BinaryValue"]
            entry["binaryValue"] = base64.b64encode(raw).decode("ascii") if isinstance(raw, bytes) else raw
        entry["stringListValues"] = list(value.get("StringListValues", []))
        entry["binaryListValues"] = [
            base64.b64encode(item).decode("ascii") if isinstance(item, bytes) else item
            for item in value.get("BinaryListValues", [])
        ]
        entry["dataType"] = value.get("DataType", "String")
        converted[name] = entry
    return converted


def _fallback_sequence_number(message: dict[str, Any]) -> str:
    """A stable 20-digit stand-in for a FIFO SequenceNumber, ordered by send time.

    moto 5.2.5 only gives a FIFO message a SequenceNumber when the sender passed an explicit
    MessageDeduplicationId (not with content-based deduplication); SQS always does.
    """
    sent = int(message.get("Attributes", {}).get("SentTimestamp", "0"))
    tiebreak = int(hashlib.md5(message["MessageId"].encode()).hexdigest(), 16) % 10**7
    return f"{sent:013d}{tiebreak:07d}"[-20:]


def _system_attributes(message: dict[str, Any], fifo: bool) -> dict[str, str]:
    attributes: dict[str, str] = message.get("Attributes", {})
    # Lambda lists these first, in this order; FIFO and tracing attributes follow when present.
    ordered = ["ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"]
    result = {name: attributes[name] for name in ordered if name in attributes}
    result.update({name: value for name, value in attributes.items() if name not in result})
    if fifo and "SequenceNumber" not in result:
        result["SequenceNumber"] = _fallback_sequence_number(message)
    return result


def build_sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda gives a function for a batch of messages received with boto3."""
    region = _region_of(queue_arn)
    fifo = queue_arn.endswith(".fifo")
    records: list[dict[str, Any]] = []
    for message in messages:
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message.get("Body", ""),
            "attributes": _system_attributes(message, fifo),
            "messageAttributes": _lambda_message_attributes(message.get("MessageAttributes", {})),
            "md5OfBody": message.get("MD5OfBody", ""),
        }
        if message.get("MD5OfMessageAttributes"):
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        record.update({"eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region})
        records.append(record)
    return {"Records": records}


class BatchResponseError(ValueError):
    """A ReportBatchItemFailures response Lambda would reject: the whole batch counts as failed."""


def failed_message_ids(payload: bytes, batch_ids: set[str]) -> set[str]:
    """The message ids a function reported as failed, by Lambda's rules for ReportBatchItemFailures.

    Empty, null, `{}` and an empty or null `batchItemFailures` mean every message succeeded; invalid
    JSON, an entry without a non-empty `itemIdentifier`, or an id not in the batch raise
    BatchResponseError (Lambda then retries the whole batch).
    """
    text = payload.decode("utf-8", errors="replace").strip()
    if not text:
        return set()
    try:
        response = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BatchResponseError(f"response is not JSON: {exc}") from exc
    if response is None:
        return set()
    if not isinstance(response, dict):
        raise BatchResponseError(f"response is a {type(response).__name__}, not an object")
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        raise BatchResponseError("batchItemFailures is not a list")
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or not identifier:
            raise BatchResponseError(f"batchItemFailures entry without an itemIdentifier: {item!r}")
        if identifier not in batch_ids:
            raise BatchResponseError(f"itemIdentifier {identifier!r} is not a message of this batch")
        failed.add(identifier)
    return failed


def _latest_receipts(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per message id, the last receipt kept (only it can delete the message).

    A window longer than the queue's visibility timeout lets a message come back while the batch is
    still gathering; AWS asks for a timeout that exceeds the window, and so does this emulation's user.
    """
    latest: dict[str, dict[str, Any]] = {}
    for message in messages:
        # Re-assigning a key keeps its first position, so the batch keeps the order of first receipt.
        latest[message["MessageId"]] = message
    return list(latest.values())


class SqsPoller:
    """One SQS event source: a thread that gathers batches, invokes the function and settles them."""

    def __init__(
        self,
        source: SqsEventSource,
        invoker: Invoker,
        client: Any,
        stop_event: threading.Event,
        log: Callable[[str], None],
        queue_lock: threading.Lock | None = None,
    ) -> None:
        self.source = source
        self._invoker = invoker
        self._client = client
        self._stop = stop_event
        self._log = log
        # Shared by every poller of one FIFO queue so that only one batch is ever in flight.
        self._queue_lock = queue_lock
        self._thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        return f"sqs:{self.source.queue_arn.rsplit(':', 1)[-1]}->{self.source.function}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end; False if it is still running (busy in a long invocation)."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def run(self) -> None:
        backoff = BACKOFF_INITIAL_S
        while not self._stop.is_set():
            try:
                if self._queue_lock is None:
                    self.poll_once()
                else:
                    with self._queue_lock:
                        self.poll_once()
                backoff = BACKOFF_INITIAL_S
            except Exception as exc:  # the poller must outlive any error: log, back off, go on
                self._log(f"{self.name}: {type(exc).__name__}: {exc}; retrying in {backoff:.1f}s")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)

    def poll_once(self) -> int:
        """Gather one batch, invoke, settle. Returns how many messages the batch held."""
        messages = self._gather()
        if not messages or self._stop.is_set():
            # Stopping abandons a gathered batch: it comes back after the visibility timeout.
            return 0
        self._process(messages)
        return len(messages)

    def _receive(self, max_messages: int, wait_s: int) -> list[dict[str, Any]]:
        response = self._client.receive_message(
            QueueUrl=self.source.queue_url,
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def _gather(self) -> list[dict[str, Any]]:
        batch_size = max(1, self.source.batch_size)
        window = max(0.0, self.source.batching_window_s)
        messages = self._receive(min(MAX_RECEIVE, batch_size), RECEIVE_WAIT_S)
        if window == 0 or not messages:
            return messages
        # The window opens with the first message, so an idle queue never triggers empty invocations.
        deadline = time.monotonic() + window
        while len(messages) < batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            wait_s = RECEIVE_WAIT_S if remaining >= RECEIVE_WAIT_S else 0
            received = self._receive(min(MAX_RECEIVE, batch_size - len(messages)), wait_s)
            messages.extend(received)
            if not received and wait_s == 0:
                self._stop.wait(min(SHORT_POLL_PAUSE_S, remaining))
        return _latest_receipts(messages)

    def _process(self, messages: list[dict[str, Any]]) -> None:
        event = build_sqs_event(messages, self.source.queue_arn)
        payload = json.dumps(event).encode("utf-8")
        try:
            result = self._invoker.invoke(self.source.function, payload)
        except Exception as exc:
            # The host could not run the function at all: Lambda would retry the batch, and so do we.
            self._log(f"{self.name}: invoke failed ({type(exc).__name__}: {exc}); batch will be retried")
            return
        if not result.ok:
            self._log(
                f"{self.name}: function error ({result.function_error}) on {len(messages)} message(s); "
                "they return after the visibility timeout"
            )
            return
        keep: set[str] = set()
        if self.source.report_batch_item_failures:
            try:
                keep = failed_message_ids(result.payload, {m["MessageId"] for m in messages})
            except BatchResponseError as exc:
                self._log(f"{self.name}: invalid batch response ({exc}); the whole batch failed")
                return
            if keep:
                self._log(f"{self.name}: {len(keep)} of {len(messages)} message(s) reported as failed")
        self._delete([m for m in messages if m["MessageId"] not in keep])

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), MAX_RECEIVE):
            chunk = messages[start : start + MAX_RECEIVE]
            response = self._client.delete_message_batch(
                QueueUrl=self.source.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(chunk)
                ],
            )
            for failure in response.get("Failed", []):
                self._log(f"{self.name}: could not delete a message: {failure.get('Message', failure)}")
