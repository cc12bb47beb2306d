"""A real moto server on loopback with the tables, queues, topic and state machine of docs/architecture.md.

Shared by the service, adapter and handler tests. `moto_endpoint()` starts one server (free port);
`aws_stack(endpoint, monkeypatch)` resets moto, creates the resources and points the environment (and
the core's cached clients) at them.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from endurance import bootstrap
from endurance.domain.models import Job, JobEnvelope, JobStatus, utc_now

from tests.support import moto_server

REGION = "us-east-1"
ACCOUNT = "123456789012"

_CLIENTS: dict[tuple[str, str], Any] = {}
_core_clients_endpoint: list[str] = []

TABLES: dict[str, tuple[str, str | None]] = {
    "JOBS_TABLE": ("job_id", None),
    "SESSIONS_TABLE": ("session_id", "turn_key"),
    "FEEDBACK_TABLE": ("job_id", "feedback_id"),
    "AUDIT_TABLE": ("log_id", "event_key"),
    "CONNECTIONS_TABLE": ("connection_id", "sk"),
    "IDEMPOTENCY_TABLE": ("idempotency_key", None),
    "DOCUMENTS_TABLE": ("doc", None),
}


def moto_endpoint() -> Iterator[str]:
    yield from moto_server()


@dataclass
class AwsStack:
    endpoint: str
    env: dict[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        key = (service, self.endpoint)
        if key not in _CLIENTS:
            _CLIENTS[key] = boto3.client(
                service,
                region_name=REGION,
                endpoint_url=self.endpoint,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return _CLIENTS[key]

    def queue_url(self, name: str) -> str:
        return str(self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    def drain(self, queue: str, *, expect: int | None = None, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Receive every message now on `queue` (name), deleting them."""
        sqs = self.client("sqs")
        url = self.queue_url(queue)
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            batch = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            for message in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            messages.extend(batch)
            if not batch and (expect is None or len(messages) >= expect or time.monotonic() > deadline):
                return messages
            if not batch:
                time.sleep(0.05)

    def events(self) -> list[dict[str, Any]]:
        """Job events published so far (the probe queue is subscribed to the topic with raw delivery)."""
        return [
            json.loads(message["Body"])
            | {"_type_attribute": message["MessageAttributes"]["type"]["StringValue"]}
            for message in self.drain("events-probe")
        ]


def _reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _create_resources(stack: AwsStack) -> dict[str, str]:
    env: dict[str, str] = {}
    dynamodb = stack.client("dynamodb")
    for variable, (pk, sk) in TABLES.items():
        name = variable.lower().removesuffix("_table")
        keys = [{"AttributeName": pk, "KeyType": "HASH"}]
        attributes = [{"AttributeName": pk, "AttributeType": "S"}]
        if sk:
            keys.append({"AttributeName": sk, "KeyType": "RANGE"})
            attributes.append({"AttributeName": sk, "AttributeType": "S"})
        extra: dict[str, Any] = {}
        if variable == "CONNECTIONS_TABLE":
            attributes.append({"AttributeName": "job_id", "AttributeType": "S"})
            extra["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": "by_job",
                    "KeySchema": [{"AttributeName": "job_id", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ]
        dynamodb.create_table(
            TableName=name,
            KeySchema=keys,
            AttributeDefinitions=attributes,
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )
        env[variable] = name

    sqs = stack.client("sqs")
    dlq_url = sqs.create_queue(QueueName="intake-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    intake = sqs.create_queue(
        QueueName="intake",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})},
    )["QueueUrl"]
    failed = sqs.create_queue(QueueName="failed-jobs", tags={"endurance:replay-to": "intake"})["QueueUrl"]
    probe = sqs.create_queue(QueueName="events-probe")["QueueUrl"]
    probe_arn = sqs.get_queue_attributes(QueueUrl=probe, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    env["INTAKE_QUEUE_URL"] = intake
    env["FAILED_JOBS_QUEUE_URL"] = failed

    sns = stack.client("sns")
    topic = sns.create_topic(Name="job-events")["TopicArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=probe_arn, Attributes={"RawMessageDelivery": "true"}
    )
    env["EVENTS_TOPIC_ARN"] = topic

    sfn = stack.client("stepfunctions")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    env["STATE_MACHINE_ARN"] = sfn.create_state_machine(
        name="chat", definition=json.dumps(definition), roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn"
    )["stateMachineArn"]

    stack.client("s3").create_bucket(Bucket="documents")
    env["DOCUMENTS_BUCKET"] = "documents"
    env["WEBSOCKET_URL"] = "wss://ws.example.test/prod"
    return env


def aws_stack(endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[AwsStack]:
    _reset(endpoint)
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "POWERTOOLS_SERVICE_NAME": "endurance-test",
        "LOCAL_INDEX_DIR": str(tmp_path / "index"),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "ENDURANCE_FAULT_INJECTION"):
        monkeypatch.delenv(name, raising=False)
    stack = AwsStack(endpoint)
    stack.env = _create_resources(stack)
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)
    # The core's cached clients stay valid while the endpoint is the same (building them is slow).
    same_endpoint = _core_clients_endpoint == [endpoint]
    _core_clients_endpoint[:] = [endpoint]
    bootstrap.reset(clients=not same_endpoint)
    try:
        yield stack
    finally:
        bootstrap.reset(clients=False)


class FakeLambdaContext:
    """What the Lambda runtime passes as `context` (the attributes Powertools reads)."""

    def __init__(self, function_name: str = "fn") -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self.memory_limit_in_mb = 256
        self.aws_request_id = uuid.uuid4().hex
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def sqs_event(bodies: list[str], *, queue: str = "queue") -> dict[str, Any]:
    records = []
    for index, body in enumerate(bodies):
        records.append(
            {
                "messageId": f"m{index}-{uuid.uuid4().hex[:8]}",
                "receiptHandle": f"rh{index}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1700000000000",
                    "SenderId": "AIDA",
                    "ApproximateFirstReceiveTimestamp": "1700000000000",
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def http_event(
    method: str,
    path: str,
    *,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload-format-2.0 event."""
    all_headers = {"content-type": "application/json", "host": "api.example.test"} | {
        key.lower(): value for key, value in (headers or {}).items()
    }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": all_headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "api",
            "domainName": "api.example.test",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000,
        },
        "isBase64Encoded": base64_body,
    }
    if body is not None:
        event["body"] = base64.b64encode(body.encode()).decode() if base64_body else body
    return event


def websocket_event(route: str, connection_id: str, body: str | None = None) -> dict[str, Any]:
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    event: dict[str, Any] = {
        "requestContext": {
            "routeKey": route,
            "eventType": event_type,
            "connectionId": connection_id,
            "domainName": "ws.example.test",
            "stage": "prod",
            "apiId": "ws",
            "requestId": uuid.uuid4().hex,
            "connectedAt": 1767225600000,
            "requestTimeEpoch": 1767225600000,
            "messageDirection": "IN",
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = body
    return event


class ManagementApiServer:
    """A tiny API Gateway `@connections` endpoint on loopback: records posted messages, and answers
    410 GoneException for connections in `gone` (as API Gateway does for clients that have left)."""

    def __init__(self, stage: str = "prod") -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.stage = stage
        self.gone: set[str] = set()
        self.received: list[tuple[str, dict[str, Any]]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                prefix = f"/{owner.stage}/@connections/"
                length = int(self.headers.get("Content-Length", "0"))
                data = self.rfile.read(length)
                if not self.path.startswith(prefix):
                    self._answer(404, "NotFoundException")
                    return
                connection_id = urllib.request.unquote(self.path[len(prefix) :])
                if connection_id in owner.gone:
                    self._answer(410, "GoneException")
                    return
                owner.received.append((connection_id, json.loads(data)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _answer(self, status: int, error_type: str) -> None:
                body = json.dumps({"message": error_type}).encode()
                self.send_response(status)
                self.send_header("x-amzn-ErrorType", error_type)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/{self.stage}"

    def messages_for(self, connection_id: str) -> list[dict[str, Any]]:
        return [message for cid, message in self.received if cid == connection_id]

    def __enter__(self) -> ManagementApiServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


REPO = __import__("pathlib").Path(__file__).resolve().parents[3]


def load_handler(name: str) -> Any:
    """Import functions/<name>/app.py under a unique module name (every function's module is `app`)."""
    import importlib.util
    import sys

    module_name = f"endurance_function_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    # Lambda puts the code folder on sys.path: a handler may import its sibling modules (routes_*.py).
    code_dir = str(REPO / "functions" / name)
    if code_dir not in sys.path:
        sys.path.append(code_dir)
    spec = importlib.util.spec_from_file_location(module_name, REPO / "functions" / name / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def invoke(name: str, event: dict[str, Any]) -> Any:
    """Call a handler the way Lambda does: a JSON-shaped event in, a JSON-serialisable result out."""
    result = load_handler(name).handler(json.loads(json.dumps(event)), FakeLambdaContext(name))
    return json.loads(json.dumps(result))


def running_job(job_id: str = "job-1") -> JobEnvelope:
    """A RUNNING job in the jobs table (bootstrap's repository), and its envelope."""
    envelope = JobEnvelope(job_id=job_id, question="q?", session_id="s", created_at=utc_now())
    bootstrap.jobs().create(
        Job(
            job_id=job_id,
            status=JobStatus.RUNNING,
            question="q?",
            session_id="s",
            created_at=envelope.created_at,
        )
    )
    return envelope
