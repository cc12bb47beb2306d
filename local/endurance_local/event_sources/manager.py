"""Runs a deployment's event sources: SQS pollers, S3 notifications and schedules.

These replace Lambda's event-source mappings, S3's notification delivery and EventBridge's scheduler:
the runtime never creates Lambda functions or mappings in moto, so moto's own never fire.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from endurance_local.event_sources.s3 import build_s3_record, source_matches
from endurance_local.event_sources.schedule import Schedule, Scheduler, parse_schedule, scheduled_event
from endurance_local.event_sources.sqs import SqsPoller, make_sqs_client
from endurance_local.model import Deployment, Invoker, S3EventSource, ScheduleSource

STOP_TIMEOUT_S = 2.0

_logger = logging.getLogger("endurance_local.event_sources")


class EventSources:
    def __init__(
        self,
        deployment: Deployment,
        invoker: Invoker,
        endpoint_url: str,
        on_log: Callable[[str], None] | None = None,
    ) -> None:
        self._deployment = deployment
        self._invoker = invoker
        self._endpoint_url = endpoint_url
        self._log = on_log or _logger.info
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pollers: list[SqsPoller] = []
        self._scheduler_thread: threading.Thread | None = None
        # Clients are made here, on the caller's thread: boto3's session setup is not thread-safe.
        self._sqs = make_sqs_client(endpoint_url)
        self._queue_urls: dict[str, str] = {}
        self._schedules = self._valid_schedules()

    def _warn(self, message: str) -> None:
        self._log(f"warning: {message}")
        if message not in self._deployment.warnings:
            self._deployment.warnings.append(message)

    def _valid_schedules(self) -> list[tuple[ScheduleSource, Schedule]]:
        valid: list[tuple[ScheduleSource, Schedule]] = []
        for source in self._deployment.schedules:
            if not source.enabled:
                continue
            try:
                schedule = parse_schedule(source.expression)
                if source.input is not None:
                    json.loads(source.input)
            except ValueError as exc:
                self._warn(f"schedule for {source.function} not run: {exc}")
                continue
            valid.append((source, schedule))
        return valid

    def start(self) -> None:
        """One poller thread per enabled SQS source, and one scheduler thread if there are schedules."""
        with self._lock:
            if self._pollers or self._scheduler_thread is not None:
                return
            self._stop.clear()
            # Lambda keeps one batch in flight per FIFO queue, whatever number of mappings read it.
            fifo_locks: dict[str, threading.Lock] = {}
            for source in self._deployment.sqs_sources:
                if not source.enabled:
                    continue
                lock = None
                if source.queue_arn.endswith(".fifo"):
                    lock = fifo_locks.setdefault(source.queue_arn, threading.Lock())
                poller = SqsPoller(
                    source, self._invoker, make_sqs_client(self._endpoint_url), self._stop, self._log, lock
                )
                self._pollers.append(poller)
            for poller in self._pollers:
                poller.start()
            if self._schedules:
                scheduler = Scheduler(self._schedules, self._fire_schedule, self._log)
                self._scheduler_thread = threading.Thread(
                    target=scheduler.run, args=(self._stop.wait,), name="schedules", daemon=True
                )
                self._scheduler_thread.start()

    def stop(self) -> None:
        """Stop every thread and wait for them, at most about STOP_TIMEOUT_S in all."""
        with self._lock:
            self._stop.set()
            deadline = time.monotonic() + STOP_TIMEOUT_S
            for poller in self._pollers:
                if not poller.join(max(0.0, deadline - time.monotonic())):
                    self._log(f"{poller.name}: still busy in an invocation at shutdown")
            if self._scheduler_thread is not None:
                self._scheduler_thread.join(max(0.0, deadline - time.monotonic()))
            self._pollers = []
            self._scheduler_thread = None

    def _fire_schedule(self, source: ScheduleSource, fire_time: datetime) -> None:
        self._invoker.invoke(source.function, scheduled_event(source, fire_time), "Event")

    def on_s3_event(self, event_name: str, bucket: str, key: str, size: int | None, etag: str | None) -> None:
        """Deliver an object event (`ObjectCreated:Put`, `s3:ObjectRemoved:Delete`, ...) to matching targets.

        Called after moto stored or deleted the object; never raises, so the S3 request it follows is
        answered whatever happens to the notification.
        """
        for source in self._deployment.s3_sources:
            if not source_matches(source, event_name, bucket, key):
                continue
            try:
                record = build_s3_record(source, event_name, bucket, key, size, etag)
                payload = json.dumps({"Records": [record]})
                if source.function is not None:
                    self._invoker.invoke(source.function, payload.encode("utf-8"), "Event")
                elif source.queue_arn is not None:
                    self._sqs.send_message(QueueUrl=self._queue_url(source), MessageBody=payload)
            except Exception as exc:  # a broken target must not fail the S3 request or other targets
                target = source.function or source.queue_arn
                self._log(f"s3 notification {event_name} s3://{bucket}/{key} -> {target} failed: {exc}")

    def _queue_url(self, source: S3EventSource) -> str:
        arn = source.queue_arn or ""
        if arn not in self._queue_urls:
            url = next(
                (r.url for r in self._deployment.resources.values() if r.arn == arn and r.url),
                None,
            )
            if url is None:
                parts = arn.split(":")
                response: dict[str, Any] = self._sqs.get_queue_url(
                    QueueName=parts[-1], QueueOwnerAWSAccountId=parts[4]
                )
                url = str(response["QueueUrl"])
            self._queue_urls[arn] = url
        return self._queue_urls[arn]
