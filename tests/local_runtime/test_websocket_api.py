"""The local API Gateway's WebSocket API and @connections endpoint, with real clients on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from botocore.config import Config
from endurance_local.apigateway import ApiServer, build_app
from endurance_local.apigateway.websocket_api import select_route_key
from endurance_local.model import Deployment, InvokeResult, WebSocketApi
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

Handler = Callable[[dict[str, Any]], Any]
STAGE = "prod"
BARE_STAGE = "bare"


class InProcessInvoker:
    """A model.Invoker that runs Python callables in this process and records every event it sent."""

    def __init__(self) -> None:
        self.functions: dict[str, Handler] = {}
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def invoke(self, function: str, payload: bytes, invocation_type: str = "RequestResponse") -> InvokeResult:
        event = json.loads(payload)
        with self._lock:
            self.events.append((function, event))
        try:
            result = self.functions[function](event)
        except Exception as exc:
            error = {"errorMessage": str(exc), "errorType": type(exc).__name__}
            return InvokeResult(json.dumps(error).encode(), function_error="Unhandled")
        return InvokeResult(json.dumps(result).encode())

    def events_of(self, function: str, connection_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                e
                for f, e in self.events
                if f == function
                and (connection_id is None or e["requestContext"]["connectionId"] == connection_id)
            ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@dataclass
class Stack:
    server: ApiServer
    invoker: InProcessInvoker
    port: int

    def management(self, stage: str = STAGE) -> Any:
        # A session per client: creating clients from one shared default session is not thread-safe.
        return boto3.session.Session().client(
            "apigatewaymanagementapi",
            endpoint_url=f"http://127.0.0.1:{self.port}/{stage}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}, proxies={}),
        )

    @contextmanager
    def connect(
        self, stage: str = STAGE, token: str | None = None, extra_query: str = ""
    ) -> Iterator[tuple[ClientConnection, str]]:
        """An open socket with its connection id, taken from the $connect event."""
        token = token or f"ok-{uuid.uuid4()}"
        url = f"ws://127.0.0.1:{self.port}/{stage}?token={token}{extra_query}"
        with connect(url, open_timeout=5, user_agent_header="pytest-ws", proxy=None) as ws:
            event = next(
                e for e in self.invoker.events_of("Connect") if e["queryStringParameters"]["token"] == token
            )
            yield ws, event["requestContext"]["connectionId"]


def recv_json(ws: ClientConnection) -> Any:
    return json.loads(ws.recv(timeout=5))


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    port = free_port()
    invoker = InProcessInvoker()
    apis = [
        WebSocketApi(
            logical_id="ChatSocket",
            api_id="wsapi12345",
            stage=STAGE,
            route_selection_expression="$request.body.action",
            routes={
                "$connect": "Connect",
                "$disconnect": "Disconnect",
                "$default": "Default",
                "subscribe": "Subscribe",
                "explode": "Explode",
            },
        ),
        WebSocketApi(
            logical_id="BareSocket",
            api_id="wsbare1234",
            stage=BARE_STAGE,
            route_selection_expression="$request.body.meta.kind",
            routes={"$connect": "Connect", "ping": "Ping"},
        ),
    ]
    dep = Deployment(template_path=Path("template.yaml"), resources={}, websocket_apis=apis)
    app = build_app(dep, invoker, api_host="127.0.0.1", api_port=port, resources=dict)
    server = ApiServer(app, host="127.0.0.1", port=port)
    running = Stack(server, invoker, port)

    def post_back(event: dict[str, Any], data: dict[str, Any]) -> None:
        # What a deployed handler does: build the management client from the event's domain and stage.
        context = event["requestContext"]
        client = boto3.session.Session().client(
            "apigatewaymanagementapi",
            endpoint_url=f"http://{context['domainName']}/{context['stage']}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(proxies={}),
        )
        client.post_to_connection(ConnectionId=context["connectionId"], Data=json.dumps(data).encode())

    def on_connect(event: dict[str, Any]) -> dict[str, Any]:
        token = (event.get("queryStringParameters") or {}).get("token", "")
        return {"statusCode": 200 if token.startswith("ok-") else 401}

    def on_subscribe(event: dict[str, Any]) -> dict[str, Any]:
        post_back(event, {"subscribed": json.loads(event["body"])["job_id"]})
        return {"statusCode": 200}

    def on_default(event: dict[str, Any]) -> dict[str, Any]:
        post_back(event, {"echo": event["body"], "route": event["requestContext"]["routeKey"]})
        return {"statusCode": 200}

    def explode(event: dict[str, Any]) -> Any:
        raise ValueError("handler bug")

    def on_ping(event: dict[str, Any]) -> dict[str, Any]:
        post_back(event, {"pong": True})
        return {"statusCode": 200}

    invoker.functions.update(
        {
            "Connect": on_connect,
            "Disconnect": lambda event: {"statusCode": 200},
            "Subscribe": on_subscribe,
            "Default": on_default,
            "Explode": explode,
            "Ping": on_ping,
        }
    )
    server.start()
    yield running
    server.stop()


def test_connect_event_and_accept(stack: Stack) -> None:
    with stack.connect(token="ok-accept", extra_query="&x=1") as (_, connection_id):
        event = stack.invoker.events_of("Connect", connection_id)[0]
        parsed = parse(event=event, model=APIGatewayWebSocketConnectEventModel)
        assert parsed.request_context.route_key == "$connect"
        assert event["queryStringParameters"] == {"token": "ok-accept", "x": "1"}
        assert event["multiValueQueryStringParameters"] == {"token": ["ok-accept"], "x": ["1"]}
        assert event["headers"]["Host"] == f"127.0.0.1:{stack.port}"
        assert event["headers"]["User-Agent"] == "pytest-ws"
        assert event["multiValueHeaders"]["Sec-Websocket-Version"] == ["13"]
        context = event["requestContext"]
        assert context["stage"] == STAGE
        assert context["apiId"] == "wsapi12345"
        assert context["domainName"] == f"127.0.0.1:{stack.port}"
        assert context["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "pytest-ws"}
        assert context["eventType"] == "CONNECT" and "messageId" not in context
        assert len(connection_id) == 16 and connection_id.endswith("=")


def test_connect_rejected_by_handler_is_http_403(stack: Stack) -> None:
    with pytest.raises(InvalidStatus) as rejected:
        connect(f"ws://127.0.0.1:{stack.port}/{STAGE}?token=bad-token", open_timeout=5, proxy=None)
    assert rejected.value.response.status_code == 403
    event = next(
        e for e in stack.invoker.events_of("Connect") if e["queryStringParameters"]["token"] == "bad-token"
    )
    rejected_id = event["requestContext"]["connectionId"]
    client = stack.management()
    with pytest.raises(client.exceptions.GoneException):
        client.get_connection(ConnectionId=rejected_id)
    # A connection that never opened never disconnects.
    time.sleep(0.1)
    assert stack.invoker.events_of("Disconnect", rejected_id) == []


def test_unknown_stage_is_refused(stack: Stack) -> None:
    with pytest.raises(InvalidStatus) as rejected:
        connect(f"ws://127.0.0.1:{stack.port}/nostage", open_timeout=5, proxy=None)
    assert rejected.value.response.status_code == 403


def test_message_routed_by_action_while_handler_posts_back(stack: Stack) -> None:
    with stack.connect() as (ws, connection_id):
        ws.send(json.dumps({"action": "subscribe", "job_id": "j-9"}))
        # The handler posted over @connections while its own invocation was still running.
        assert recv_json(ws) == {"subscribed": "j-9"}
        event = stack.invoker.events_of("Subscribe", connection_id)[0]
        parsed = parse(event=event, model=APIGatewayWebSocketMessageEventModel)
        assert parsed.request_context.route_key == "subscribe"
        assert parsed.request_context.message_direction == "IN"
        assert event["isBase64Encoded"] is False
        assert json.loads(event["body"]) == {"action": "subscribe", "job_id": "j-9"}
        assert event["requestContext"]["messageId"]


def test_unmatched_and_non_json_messages_go_to_default(stack: Stack) -> None:
    with stack.connect() as (ws, connection_id):
        ws.send(json.dumps({"action": "no-such-route"}))
        assert recv_json(ws) == {"echo": '{"action": "no-such-route"}', "route": "$default"}
        ws.send("plain text")
        assert recv_json(ws) == {"echo": "plain text", "route": "$default"}
        ws.send(b"\x00\xff")
        assert recv_json(ws) == {"echo": "AP8=", "route": "$default"}
        assert stack.invoker.events_of("Default", connection_id)[-1]["isBase64Encoded"] is True


def test_no_route_and_no_default_answers_forbidden(stack: Stack) -> None:
    with stack.connect(stage=BARE_STAGE) as (ws, connection_id):
        ws.send(json.dumps({"meta": {"kind": "ping"}}))
        assert recv_json(ws) == {"pong": True}
        ws.send(json.dumps({"meta": {"kind": "other"}}))
        reply = recv_json(ws)
        assert reply["message"] == "Forbidden"
        assert reply["connectionId"] == connection_id
        assert reply["requestId"]


def test_handler_error_answers_internal_server_error(stack: Stack) -> None:
    with stack.connect() as (ws, connection_id):
        ws.send(json.dumps({"action": "explode"}))
        reply = recv_json(ws)
        assert reply["message"] == "Internal server error"
        assert reply["connectionId"] == connection_id


def test_server_push_from_other_threads_and_get_connection(stack: Stack) -> None:
    with stack.connect() as (ws, connection_id):
        errors: list[BaseException] = []

        def push(n: int) -> None:
            try:
                stack.management().post_to_connection(
                    ConnectionId=connection_id, Data=json.dumps({"n": n}).encode()
                )
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=push, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert errors == []
        assert sorted(recv_json(ws)["n"] for _ in range(8)) == list(range(8))

        client = stack.management()
        client.post_to_connection(ConnectionId=connection_id, Data=b"\xff\x00binary")
        assert ws.recv(timeout=5) == b"\xff\x00binary"

        info = client.get_connection(ConnectionId=connection_id)
        assert isinstance(info["ConnectedAt"], datetime)
        assert info["LastActiveAt"] >= info["ConnectedAt"]
        assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "pytest-ws"}

        too_big = b"x" * (128 * 1024 + 1)
        with pytest.raises(client.exceptions.PayloadTooLargeException):
            client.post_to_connection(ConnectionId=connection_id, Data=too_big)


def test_delete_connection_closes_socket_and_fires_disconnect_once(stack: Stack) -> None:
    client = stack.management()
    with stack.connect() as (ws, connection_id):
        client.delete_connection(ConnectionId=connection_id)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
    wait_until(lambda: len(stack.invoker.events_of("Disconnect", connection_id)) == 1)
    event = stack.invoker.events_of("Disconnect", connection_id)[0]
    parsed = parse(event=event, model=APIGatewayWebSocketDisconnectEventModel)
    assert parsed.request_context.route_key == "$disconnect"
    assert parsed.request_context.disconnect_status_code == 1000
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId=connection_id, Data=b"late")
    with pytest.raises(client.exceptions.GoneException):
        client.delete_connection(ConnectionId=connection_id)
    time.sleep(0.2)
    assert len(stack.invoker.events_of("Disconnect", connection_id)) == 1


def test_client_close_fires_disconnect_once_then_gone(stack: Stack) -> None:
    with stack.connect() as (ws, connection_id):
        ws.close(code=1001, reason="tab closed")
    wait_until(lambda: len(stack.invoker.events_of("Disconnect", connection_id)) == 1)
    context = stack.invoker.events_of("Disconnect", connection_id)[0]["requestContext"]
    assert context["disconnectStatusCode"] == 1001
    assert context["disconnectReason"] == "tab closed"
    assert context["eventType"] == "DISCONNECT"
    client = stack.management()
    with pytest.raises(client.exceptions.GoneException) as gone:
        client.post_to_connection(ConnectionId=connection_id, Data=b"after close")
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410
    with pytest.raises(client.exceptions.GoneException):
        client.get_connection(ConnectionId=connection_id)
    time.sleep(0.2)
    assert len(stack.invoker.events_of("Disconnect", connection_id)) == 1


def test_unknown_connection_and_wrong_stage_are_gone(stack: Stack) -> None:
    client = stack.management()
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="AAAAAAAAAAAAAAA=", Data=b"x")
    other_stage = stack.management(BARE_STAGE)
    with stack.connect() as (_, connection_id), pytest.raises(other_stage.exceptions.GoneException):
        other_stage.get_connection(ConnectionId=connection_id)


def test_stop_closes_sockets_fires_disconnect_and_port_is_reusable() -> None:
    port = free_port()
    invoker = InProcessInvoker()
    invoker.functions.update(
        {"Connect": lambda e: None, "Disconnect": lambda e: None, "Default": lambda e: None}
    )
    api = WebSocketApi(
        logical_id="S",
        api_id="wsstop1234",
        stage="dev",
        route_selection_expression="$request.body.action",
        routes={"$connect": "Connect", "$disconnect": "Disconnect", "$default": "Default"},
    )
    dep = Deployment(template_path=Path("template.yaml"), resources={}, websocket_apis=[api])
    server = ApiServer(
        build_app(dep, invoker, api_host="127.0.0.1", api_port=port, resources=dict), port=port
    )
    server.start()
    try:
        with connect(f"ws://127.0.0.1:{port}/dev", open_timeout=5, proxy=None) as ws:
            started = time.monotonic()
            server.stop()
            assert time.monotonic() - started < 5
            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=5)
        assert len(invoker.events_of("Disconnect")) == 1
        assert invoker.events_of("Disconnect")[0]["requestContext"]["disconnectStatusCode"] == 1012

        server.start()
        with connect(f"ws://127.0.0.1:{port}/dev", open_timeout=5, proxy=None) as again:
            again.send("hello")
            wait_until(lambda: len(invoker.events_of("Default")) == 1)
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("expression", "body", "expected"),
    [
        ("$request.body.action", '{"action": "subscribe"}', "subscribe"),
        ("$request.body.meta.kind", '{"meta": {"kind": "ping"}}', "ping"),
        ("$request.body.meta.kind", '{"meta": "flat"}', None),
        ("$request.body.action", "not json", None),
        ("$request.body.action", '{"action": {"nested": 1}}', None),
        ("$request.body.n", '{"n": 3}', "3"),
    ],
)
def test_route_selection_expression(expression: str, body: str, expected: str | None) -> None:
    assert select_route_key(expression, body) == expected
