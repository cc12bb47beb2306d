"""Dead-letter queues: find them, look into them, and move their messages back to where they came from.

A DLQ is any queue named in another queue's RedrivePolicy (its source is that queue), a queue tagged
`endurance:replay-to` = <target queue name or URL> (the failed-jobs queue, which the state machine's Catch
fills, is tagged to replay into the intake queue), or a function's dead-letter queue tagged
`endurance:replay-to-function` = <function name> (IngestDLQ: the events the function still failed on after
Lambda's retries). Replaying sends a copy to the source queue (message attributes kept, `replay_count`
incremented) or invokes the function asynchronously with the event, and only then deletes the original, so
a crash in between duplicates a message rather than losing it. Failed-job messages (JobEnvelope bodies on a
tagged queue) also get `attempt` incremented and their job reset to QUEUED, so the dispatcher restarts the
job under the same job id with a fresh execution name.

`sqs` is a boto3 SQS client, `lambda_client` a boto3 Lambda client (the CLI and the admin route pass them).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from endurance.domain.errors import ConfigurationError, NotFoundError
from endurance.domain.models import JobEnvelope
from endurance.ports.storage import JobRepository

logger = logging.getLogger(__name__)

REPLAY_TAG = "endurance:replay-to"
REPLAY_FUNCTION_TAG = "endurance:replay-to-function"
REPLAY_COUNT = "replay_count"
_MAX_BATCH = 10


@dataclass(frozen=True)
class DeadLetterQueue:
    queue: str
    url: str
    source: str
    source_url: str
    messages: int
    restarts_jobs: bool  # tagged replay target: bodies are failed jobs to restart
    target_function: str | None = None  # a function's DLQ: replay invokes it (source_url is then "")

    def describe(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "url": self.url,
            "source": self.source,
            "source_url": self.source_url,
            "source_type": "function" if self.target_function else "queue",
            "messages": self.messages,
        }


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _all_queue_urls(sqs: Any) -> list[str]:
    urls: list[str] = []
    for page in sqs.get_paginator("list_queues").paginate():
        urls.extend(page.get("QueueUrls", []))
    return sorted(urls)


def _find_dlqs(sqs: Any) -> list[DeadLetterQueue]:
    urls = _all_queue_urls(sqs)
    attributes: dict[str, dict[str, str]] = {}
    for url in urls:
        attributes[url] = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn", "RedrivePolicy", "ApproximateNumberOfMessages"]
        ).get("Attributes", {})
    url_by_arn = {attrs.get("QueueArn", ""): url for url, attrs in attributes.items()}
    url_by_name = {_queue_name(url): url for url in urls}

    found: dict[str, DeadLetterQueue] = {}

    def add(dlq_url: str, source_url: str, restarts_jobs: bool = False, function: str | None = None) -> None:
        found[dlq_url] = DeadLetterQueue(
            queue=_queue_name(dlq_url),
            url=dlq_url,
            source=function or _queue_name(source_url),
            source_url=source_url,
            messages=int(attributes[dlq_url].get("ApproximateNumberOfMessages", 0)),
            restarts_jobs=restarts_jobs,
            target_function=function,
        )

    for source_url, attrs in attributes.items():
        policy = attrs.get("RedrivePolicy")
        if not policy:
            continue
        dlq_url = url_by_arn.get(json.loads(policy).get("deadLetterTargetArn", ""))
        if dlq_url:
            add(dlq_url, source_url, restarts_jobs=False)
    for url in urls:
        tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
        function = tags.get(REPLAY_FUNCTION_TAG)
        if function:
            add(url, "", function=function)
            continue
        target = tags.get(REPLAY_TAG)
        if not target:
            continue
        target_url = target if target.startswith(("http://", "https://")) else url_by_name.get(target)
        if target_url is None:
            logger.warning(
                "replay target of a tagged queue does not exist", extra={"queue": url, "target": target}
            )
            continue
        add(url, target_url, restarts_jobs=True)
    return sorted(found.values(), key=lambda dlq: dlq.queue)


def list_dlqs(sqs: Any) -> list[dict[str, Any]]:
    """Every dead-letter queue with its source queue and approximate message count."""
    return [dlq.describe() for dlq in _find_dlqs(sqs)]


def _find(sqs: Any, queue: str) -> DeadLetterQueue:
    for dlq in _find_dlqs(sqs):
        if queue in (dlq.queue, dlq.url):
            return dlq
    raise NotFoundError(
        f"{queue} is not a dead-letter queue (no RedrivePolicy names it, no {REPLAY_TAG} tag)"
    )


def _receive(sqs: Any, url: str, max_messages: int) -> list[dict[str, Any]]:
    messages: dict[str, dict[str, Any]] = {}
    while len(messages) < max_messages:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(_MAX_BATCH, max_messages - len(messages)),
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
            VisibilityTimeout=60,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        fresh = [message for message in batch if message["MessageId"] not in messages]
        if not fresh:
            break
        for message in fresh:
            messages[message["MessageId"]] = message
    return list(messages.values())


def _attributes_for_resend(message: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for name, value in message.get("MessageAttributes", {}).items():
        copy = {"DataType": value["DataType"]}
        if "StringValue" in value:
            copy["StringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            copy["BinaryValue"] = value["BinaryValue"]
        kept[name] = copy
    previous = kept.get(REPLAY_COUNT, {}).get("StringValue", "0")
    count = int(previous) + 1 if previous.isdigit() else 1
    kept[REPLAY_COUNT] = {"DataType": "Number", "StringValue": str(count)}
    return kept


def _give_back(sqs: Any, url: str, messages: list[dict[str, Any]]) -> None:
    """Make looked-at messages visible again at once instead of hiding them for the visibility timeout."""
    for message in messages:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )


def _job_id_of(body: str) -> str | None:
    """The job a message is about: failed-job envelopes and job events both carry `job_id`."""
    try:
        value = json.loads(body)
    except ValueError:
        return None
    job_id = value.get("job_id") if isinstance(value, dict) else None
    return job_id if isinstance(job_id, str) else None


def _failed_job(body: str) -> JobEnvelope | None:
    try:
        return JobEnvelope.model_validate_json(body)
    except ValidationError:
        return None


def _is_json(body: str) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _invoke_async(lambda_client: Any, function: str, body: str) -> None:
    """Hand the event back to the function as Lambda would: an Event invocation, so its retries and its
    dead-letter queue apply again."""
    reply = lambda_client.invoke(FunctionName=function, InvocationType="Event", Payload=body.encode())
    if reply.get("StatusCode") != 202:
        raise RuntimeError(f"{function} did not accept the event (status {reply.get('StatusCode')})")


def replay(
    sqs: Any,
    queue: str,
    *,
    max_messages: int = 10,
    dry_run: bool = False,
    jobs: JobRepository | None = None,
    job_id: str | None = None,
    per_second: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    lambda_client: Any = None,
) -> dict[str, Any]:
    """Move up to `max_messages` messages from the DLQ `queue` (name or URL) back to its source.

    `job_id` replays only that job's messages (the others are looked at and given back at once);
    `per_second` spaces the sends so a replay does not flood a recovering downstream.
    """
    dlq = _find(sqs, queue)
    if dlq.target_function and lambda_client is None and not dry_run:
        raise ConfigurationError(f"{dlq.queue} replays into {dlq.target_function}: no Lambda client given")
    # With a filter, look further than `max_messages`: the wanted message may not come first.
    looked_at = _receive(sqs, dlq.url, max_messages if job_id is None else max(max_messages, 100))
    messages, skipped = [], []
    for message in looked_at:
        wanted = job_id is None or _job_id_of(message["Body"]) == job_id
        (messages if wanted and len(messages) < max_messages else skipped).append(message)
    _give_back(sqs, dlq.url, skipped)
    report: list[dict[str, Any]] = []
    for position, message in enumerate(messages):
        if per_second and position and not dry_run:
            sleep(1.0 / per_second)
        body = message["Body"]
        envelope = _failed_job(body)
        entry: dict[str, Any] = {"message_id": message["MessageId"]}
        if envelope is not None:
            entry["job_id"] = envelope.job_id
        report.append(entry)
        if dlq.target_function and not _is_json(body):
            # Not an event the function failed on (someone sent it by hand): it stays in the queue.
            entry["skipped"] = "not a JSON event"
            _give_back(sqs, dlq.url, [message])
            continue
        if dry_run:
            continue
        if envelope is not None and dlq.restarts_jobs:
            envelope = envelope.model_copy(update={"attempt": envelope.attempt + 1})
            body = envelope.model_dump_json()
            entry["attempt"] = envelope.attempt
            # QUEUED before the send: the dispatcher only starts jobs that are waiting to run.
            if jobs is not None and not jobs.reset_queued(envelope.job_id, envelope.attempt):
                logger.warning("replayed job has no job item", extra={"job_id": envelope.job_id})
        try:
            if dlq.target_function:
                _invoke_async(lambda_client, dlq.target_function, body)
            else:
                attributes = _attributes_for_resend(message)
                sqs.send_message(QueueUrl=dlq.source_url, MessageBody=body, MessageAttributes=attributes)
        except Exception as error:
            if envelope is not None and dlq.restarts_jobs and jobs is not None:
                # Never leave a QUEUED job with no message: it stays FAILED, and in the DLQ.
                jobs.mark_failed(envelope, {"type": "ReplayFailed", "message": str(error)[:500]})
            raise
        sqs.delete_message(QueueUrl=dlq.url, ReceiptHandle=message["ReceiptHandle"])
    if dry_run:
        _give_back(sqs, dlq.url, messages)
    return {
        "queue": dlq.queue,
        "source": dlq.source,
        "replayed": 0 if dry_run else sum("skipped" not in entry for entry in report),
        "dry_run": dry_run,
        "messages": report,
    }
