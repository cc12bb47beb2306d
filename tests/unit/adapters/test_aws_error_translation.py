"""AWS failures become TransientError (retried by Step Functions) or PermanentError, over real HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from endurance.adapters.aws.clients import client, reset_clients
from endurance.adapters.aws.dynamodb import DynamoJobRepository
from endurance.domain.errors import PermanentError, TransientError


class _FailingDynamo:
    """Answers every DynamoDB call with one fixed error, counting the attempts."""

    def __init__(self, status: int, error_type: str) -> None:
        self.calls = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.calls += 1
                body = json.dumps(
                    {"__type": f"com.amazonaws.dynamodb.v20120810#{error_type}", "message": "no"}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[_FailingDynamo]:
    status, error_type = request.param
    server = _FailingDynamo(status, error_type)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": server.url,
        "AWS_RETRY_MODE": "standard",
        "AWS_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    reset_clients()
    yield server
    server.close()
    reset_clients()


@pytest.mark.parametrize(
    ("failing", "expected"),
    [
        ((400, "ProvisionedThroughputExceededException"), TransientError),
        ((500, "InternalServerError"), TransientError),
        ((400, "ResourceNotFoundException"), PermanentError),
    ],
    indirect=["failing"],
)
def test_error_classes(failing: _FailingDynamo, expected: type[Exception]) -> None:
    repository = DynamoJobRepository("jobs", client("dynamodb"))
    with pytest.raises(expected) as raised:
        repository.get("job-1")
    assert type(raised.value) is expected
    assert "GetItem jobs" in str(raised.value)
    assert failing.calls == 1  # AWS_MAX_ATTEMPTS=1 is honoured


def test_unreachable_endpoint_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    reset_clients()
    try:
        with pytest.raises(TransientError):
            DynamoJobRepository("jobs").get("job-1")
    finally:
        reset_clients()
