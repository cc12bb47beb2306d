"""DynamoDB repositories (table keys as fixed in docs/architecture.md).

Every write a retry or a replay can repeat is either conditional (written once) or an idempotent SET.
The low-level client is used with boto3's type (de)serialisers; floats go through Decimal as DynamoDB
requires and come back as int/float so the rest of the code never sees Decimal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from endurance.adapters.aws.clients import aws_errors, client
from endurance.domain.errors import ConflictError
from endurance.domain.models import (
    STEP_NAMES,
    Job,
    JobEnvelope,
    JobEvent,
    JobStatus,
    Route,
    Source,
    StepRecord,
    utc_now,
)
from endurance.ports.storage import IdempotencyRecord

_CONDITION_FAILED = "ConditionalCheckFailedException"


def _plain_to_dynamo(value: Any) -> Any:
    # A JSON round trip turns floats into Decimal and tuples into lists in one go.
    return json.loads(json.dumps(value), parse_float=Decimal)


def _dynamo_to_plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _dynamo_to_plain(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [_dynamo_to_plain(item) for item in value]
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {key: serializer.serialize(value) for key, value in _plain_to_dynamo(dict(item)).items()}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return _dynamo_to_plain({key: deserializer.deserialize(value) for key, value in item.items()})


def _values(values: Mapping[str, Any]) -> dict[str, Any]:
    return serialize(values)


class _Table:
    def __init__(self, table: str, dynamodb: Any | None = None) -> None:
        if not table:
            raise ValueError("a table name is required")
        self.table = table
        self._client = dynamodb

    @property
    def dynamodb(self) -> Any:
        if self._client is None:
            self._client = client("dynamodb")
        return self._client

    def _put_once(self, item: Mapping[str, Any], key_attribute: str) -> bool:
        """Conditional put; False when an item with this key already exists."""
        with aws_errors(f"PutItem {self.table}"):
            try:
                self.dynamodb.put_item(
                    TableName=self.table,
                    Item=serialize(item),
                    ConditionExpression="attribute_not_exists(#k)",
                    ExpressionAttributeNames={"#k": key_attribute},
                )
            except self.dynamodb.exceptions.ConditionalCheckFailedException:
                return False
        return True

    def _query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        with aws_errors(f"Query {self.table}"):
            paginator = self.dynamodb.get_paginator("query")
            for page in paginator.paginate(TableName=self.table, **kwargs):
                items.extend(deserialize(item) for item in page.get("Items", []))
        return items


def _steps_from_item(steps: Mapping[str, Any] | None) -> list[StepRecord]:
    if not steps:
        return []
    order = {name: index for index, name in enumerate(STEP_NAMES)}
    names = sorted(steps, key=lambda name: (order.get(name, len(order)), name))
    return [StepRecord(name=name, **steps[name]) for name in names]


class DynamoJobRepository(_Table):
    """Jobs table, PK `job_id`. Step records live in a map attribute `steps` keyed by step name."""

    def create(self, job: Job) -> None:
        item = job.model_dump(mode="json", exclude_none=True, exclude={"steps"})
        item["steps"] = {record.name: record.model_dump(exclude={"name"}) for record in job.steps}
        item.setdefault("updated_at", job.created_at)
        if not self._put_once(item, "job_id"):
            raise ConflictError(f"job {job.job_id} already exists")

    def get(self, job_id: str) -> Job | None:
        with aws_errors(f"GetItem {self.table}"):
            response = self.dynamodb.get_item(
                TableName=self.table, Key=serialize({"job_id": job_id}), ConsistentRead=True
            )
        if "Item" not in response:
            return None
        item = deserialize(response["Item"])
        item["steps"] = _steps_from_item(item.get("steps"))
        return Job.model_validate(item)

    def _update(
        self,
        job_id: str,
        expression: str,
        names: dict[str, str],
        values: dict[str, Any],
        condition: str | None = None,
    ) -> bool:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": serialize({"job_id": job_id}),
            "UpdateExpression": expression,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if values:
            kwargs["ExpressionAttributeValues"] = _values(values)
        if condition:
            kwargs["ConditionExpression"] = condition
        with aws_errors(f"UpdateItem {self.table}"):
            try:
                self.dynamodb.update_item(**kwargs)
            except self.dynamodb.exceptions.ConditionalCheckFailedException:
                return False
        return True

    def mark_running(self, job_id: str, attempt: int) -> bool:
        # Only a job still waiting to run may become RUNNING: a redelivered intake message for a job
        # that already finished must not drag it back.
        return self._update(
            job_id,
            "SET #s = :running, attempt = :attempt, updated_at = :now",
            {"#s": "status"},
            {
                ":running": JobStatus.RUNNING.value,
                ":queued": JobStatus.QUEUED.value,
                ":attempt": attempt,
                ":now": utc_now(),
            },
            condition="#s IN (:queued, :running)",
        )

    def record_step(self, job_id: str, step: StepRecord) -> None:
        record = step.model_dump(exclude={"name"})
        written = self._update(
            job_id,
            "SET steps.#step = :record, updated_at = :now",
            {"#step": step.name},
            {":record": record, ":now": utc_now()},
            condition="attribute_exists(steps)",
        )
        if not written:
            # An item without a `steps` map (written by hand or by an older version): create the map.
            # Two writers racing here both write a one-entry map; the step record is re-sent on the
            # next call either way, so a lost entry only ever concerns a step that is re-recorded.
            self._update(
                job_id,
                "SET steps = :steps, updated_at = :now",
                {},
                {":steps": {step.name: record}, ":now": utc_now()},
            )

    def _envelope_fields(self, envelope: JobEnvelope) -> tuple[str, dict[str, Any]]:
        # if_not_exists keeps a job readable even if its item was lost before the pipeline finished.
        expression = (
            "question = if_not_exists(question, :question), "
            "session_id = if_not_exists(session_id, :session), "
            "created_at = if_not_exists(created_at, :created), attempt = :attempt, updated_at = :now"
        )
        values = {
            ":question": envelope.question,
            ":session": envelope.session_id,
            ":created": envelope.created_at,
            ":attempt": envelope.attempt,
            ":now": utc_now(),
        }
        return expression, values

    def complete(
        self,
        envelope: JobEnvelope,
        *,
        status: JobStatus,
        route: Route,
        answer: str,
        sources: list[Source],
        evaluation: Mapping[str, Any] | None,
        generation: Mapping[str, Any] | None = None,
    ) -> None:
        common, values = self._envelope_fields(envelope)
        expression = f"SET #s = :status, #r = :route, answer = :answer, sources = :sources, {common}"
        values |= {
            ":status": status.value,
            ":route": route.value,
            ":answer": answer,
            ":sources": [source.model_dump(mode="json") for source in sources],
        }
        if evaluation is not None:
            expression += ", evaluation = :evaluation"
            values[":evaluation"] = dict(evaluation)
        if generation is not None:
            expression += ", generation = :generation"
            values[":generation"] = dict(generation)
        self._update(
            envelope.job_id, expression + " REMOVE #e", {"#s": "status", "#r": "route", "#e": "error"}, values
        )

    def mark_failed(
        self, envelope: JobEnvelope, error: Mapping[str, Any], failed_step: StepRecord | None = None
    ) -> None:
        common, values = self._envelope_fields(envelope)
        expression = f"SET #s = :failed, #e = :error, {common}"
        values |= {":failed": JobStatus.FAILED.value, ":error": dict(error)}
        names = {"#s": "status", "#e": "error"}
        self._update(envelope.job_id, expression, names, values)
        if failed_step is not None:
            self.record_step(envelope.job_id, failed_step)

    def reset_queued(self, job_id: str, attempt: int) -> bool:
        return self._update(
            job_id,
            "SET #s = :queued, attempt = :attempt, updated_at = :now REMOVE #e",
            {"#s": "status", "#e": "error"},
            {":queued": JobStatus.QUEUED.value, ":attempt": attempt, ":now": utc_now()},
            condition="attribute_exists(job_id)",
        )


class DynamoSessionRepository(_Table):
    """Sessions table, PK `session_id`, SK `turn_key` = `{created_at}#{job_id}` (sorts oldest first)."""

    def add_turn(self, session_id: str, turn_key: str, turn: Mapping[str, Any]) -> bool:
        return self._put_once({**turn, "session_id": session_id, "turn_key": turn_key}, "turn_key")

    def list_turns(self, session_id: str) -> list[dict[str, Any]]:
        return self._query_all(
            KeyConditionExpression="session_id = :sid",
            ExpressionAttributeValues=serialize({":sid": session_id}),
            ScanIndexForward=True,
            ConsistentRead=True,
        )


class DynamoFeedbackRepository(_Table):
    """Feedback table, PK `job_id`, SK `feedback_id`."""

    def add(self, job_id: str, feedback_id: str, item: Mapping[str, Any]) -> None:
        self._put_once({**item, "job_id": job_id, "feedback_id": feedback_id}, "feedback_id")


class DynamoAuditRepository(_Table):
    """Audit table, PK `log_id` (job id), SK `event_key` = `{timestamp}#{event_id}`, TTL `expires_at`."""

    def put_event(self, event: JobEvent, expires_at: int) -> bool:
        item = event.model_dump(mode="json", exclude_none=True)
        item |= {
            "log_id": event.job_id,
            "event_key": f"{event.timestamp}#{event.event_id}",
            "expires_at": expires_at,
        }
        return self._put_once(item, "event_key")

    def list_events(self, job_id: str) -> list[dict[str, Any]]:
        return self._query_all(
            KeyConditionExpression="log_id = :id",
            ExpressionAttributeValues=serialize({":id": job_id}),
            ConsistentRead=True,
        )


class DynamoConnectionRepository(_Table):
    """Connections table, PK `connection_id`, SK `sk` (`meta` or `job#{job_id}`), GSI `by_job` on `job_id`."""

    index_name = "by_job"

    def add_connection(self, connection_id: str, expires_at: int) -> None:
        with aws_errors(f"PutItem {self.table}"):
            self.dynamodb.put_item(
                TableName=self.table,
                Item=serialize(
                    {
                        "connection_id": connection_id,
                        "sk": "meta",
                        "connected_at": utc_now(),
                        "expires_at": expires_at,
                    }
                ),
            )

    def subscribe(self, connection_id: str, job_id: str, expires_at: int) -> None:
        with aws_errors(f"PutItem {self.table}"):
            self.dynamodb.put_item(
                TableName=self.table,
                Item=serialize(
                    {
                        "connection_id": connection_id,
                        "sk": f"job#{job_id}",
                        "job_id": job_id,
                        "expires_at": expires_at,
                    }
                ),
            )

    def connections_for_job(self, job_id: str) -> list[str]:
        items = self._query_all(
            IndexName=self.index_name,
            KeyConditionExpression="job_id = :job",
            ExpressionAttributeValues=serialize({":job": job_id}),
        )
        return sorted({item["connection_id"] for item in items})

    def delete_connection(self, connection_id: str) -> None:
        items = self._query_all(
            KeyConditionExpression="connection_id = :cid",
            ExpressionAttributeValues=serialize({":cid": connection_id}),
            ProjectionExpression="connection_id, sk",
        )
        with aws_errors(f"DeleteItem {self.table}"):
            for item in items:
                self.dynamodb.delete_item(
                    TableName=self.table, Key=serialize({"connection_id": connection_id, "sk": item["sk"]})
                )


class DynamoIdempotencyRepository(_Table):
    """Idempotency table, PK `idempotency_key`, with the job id it produced and the request's fingerprint."""

    def claim(self, record: IdempotencyRecord, expires_at: int) -> IdempotencyRecord | None:
        import time

        item = {
            "idempotency_key": record.key,
            "job_id": record.job_id,
            "fingerprint": record.fingerprint,
            "expires_at": expires_at,
        }
        with aws_errors(f"PutItem {self.table}"):
            try:
                # DynamoDB deletes expired items lazily (up to days later), so an expired key counts as free.
                self.dynamodb.put_item(
                    TableName=self.table,
                    Item=serialize(item),
                    ConditionExpression="attribute_not_exists(idempotency_key) OR expires_at < :now",
                    ExpressionAttributeValues=serialize({":now": int(time.time())}),
                )
                return None
            except self.dynamodb.exceptions.ConditionalCheckFailedException:
                pass
            response = self.dynamodb.get_item(
                TableName=self.table, Key=serialize({"idempotency_key": record.key}), ConsistentRead=True
            )
        existing = deserialize(response.get("Item", {}))
        if not existing:
            # Released between our put and get: the caller's retry will claim it.
            raise ConflictError("the idempotency key is being released; retry the request")
        return IdempotencyRecord(
            key=record.key, job_id=existing["job_id"], fingerprint=existing.get("fingerprint", "")
        )

    def release(self, key: str, job_id: str) -> None:
        with aws_errors(f"DeleteItem {self.table}"):
            try:
                self.dynamodb.delete_item(
                    TableName=self.table,
                    Key=serialize({"idempotency_key": key}),
                    ConditionExpression="job_id = :job",
                    ExpressionAttributeValues=serialize({":job": job_id}),
                )
            except self.dynamodb.exceptions.ConditionalCheckFailedException:
                return


class DynamoDocumentRepository(_Table):
    """Documents table, PK `doc`: ingestion status of each document in the bucket."""

    def set_status(self, doc: str, status: str, *, chunks: int = 0, error: str | None = None) -> None:
        """Upsert: ``created_at`` is kept from the first status, ``indexed_at`` set when INDEXED, ``error``
        cleared by a status without one (a fixed document stops showing its old error)."""
        now = utc_now()
        values: dict[str, Any] = {":status": status, ":chunks": chunks, ":now": now}
        assignments = ["#status = :status", "chunks = :chunks", "updated_at = :now",
                       "created_at = if_not_exists(created_at, :now)"]
        if status == "INDEXED":
            assignments.append("indexed_at = :now")
        if error:
            values[":error"] = error[:1000]
            assignments.append("#error = :error")
        expression = "SET " + ", ".join(assignments) + ("" if error else " REMOVE #error")
        with aws_errors(f"UpdateItem {self.table}"):
            self.dynamodb.update_item(
                TableName=self.table,
                Key=serialize({"doc": doc}),
                UpdateExpression=expression,
                ExpressionAttributeNames={"#status": "status", "#error": "error"},
                ExpressionAttributeValues=serialize(values),
            )

    def list_all(self) -> list[dict[str, Any]]:
        """Every document's status, by name (a scan: one item per document, a few thousand at most)."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            with aws_errors(f"Scan {self.table}"):
                page = self.dynamodb.scan(**kwargs)
            items.extend(deserialize(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(items, key=lambda item: str(item["doc"]))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def delete(self, doc: str) -> None:
        with aws_errors(f"DeleteItem {self.table}"):
            self.dynamodb.delete_item(TableName=self.table, Key=serialize({"doc": doc}))

    def get(self, doc: str) -> dict[str, Any] | None:
        with aws_errors(f"GetItem {self.table}"):
            response = self.dynamodb.get_item(
                TableName=self.table, Key=serialize({"doc": doc}), ConsistentRead=True
            )
        return deserialize(response["Item"]) if "Item" in response else None
