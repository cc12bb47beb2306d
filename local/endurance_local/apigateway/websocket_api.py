"""The WebSocket API half of the local API Gateway: $connect/$disconnect/message routing and @connections.

Each `model.WebSocketApi` is served at ws://host:port/{stage}; its management API lives at
http://host:port/{stage}/@connections/{connectionId}, so `boto3.client("apigatewaymanagementapi",
endpoint_url=f"http://host:port/{stage}")` works unchanged. Everything here runs on the server's
event loop; handler invocations run on worker threads, so a handler may post to its own connection
while it is still running.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from endurance_local.apigateway.http_api import (
    clf_time,
    group_pairs,
    invoke_json,
    new_aws_id,
    now_ms,
    split_query,
)
from endurance_local.model import Invoker, WebSocketApi

logger = logging.getLogger(__name__)

CONNECT_ROUTE = "$connect"
DISCONNECT_ROUTE = "$disconnect"
DEFAULT_ROUTE = "$default"
MAX_POST_BYTES = 128 * 1024  # PostToConnection's documented Data limit

# What API Gateway reports when a close frame carries no reason of its own.
_CLOSE_REASONS = {
    1001: "Going away",
    1005: "Client-side close frame status not set",
    1006: "Connection closed abnormally",
    1012: "Service restart",
}


def _canonical_header(name: str) -> str:
    """WebSocket events keep header case as the client sent it; ASGI lower-cases, so restore the usual."""
    return "-".join(part.capitalize() for part in name.split("-"))


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Connection:
    connection_id: str
    api: WebSocketApi
    websocket: WebSocket
    source_ip: str
    user_agent: str
    headers: dict[str, list[str]]  # canonical names, from the handshake
    connected_at_ms: int
    last_active_ms: int
    # One writer at a time: posts arrive on their own requests while replies go out from the message task.
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    open: bool = True
    server_close: tuple[int, str] | None = None

    async def send(self, data: str | bytes) -> bool:
        """Send one frame; False when the socket is already gone."""
        async with self.send_lock:
            if not self.open:
                return False
            try:
                if isinstance(data, str):
                    await self.websocket.send_text(data)
                else:
                    await self.websocket.send_bytes(data)
            except Exception:  # the peer vanished between our check and the write
                logger.debug("send to %s failed", self.connection_id, exc_info=True)
                return False
        self.last_active_ms = now_ms()
        return True

    async def close(self, code: int, reason: str) -> bool:
        async with self.send_lock:
            if not self.open:
                return False
            self.open = False
            self.server_close = (code, reason)
            try:
                await self.websocket.close(code=code, reason=reason)
            except Exception:
                logger.debug("close of %s failed", self.connection_id, exc_info=True)
        return True


def select_route_key(expression: str, body: str | None) -> str | None:
    """Evaluate a `$request.body.a.b` route selection expression on a body; None when it has no value."""
    prefix = "$request.body."
    if body is None or not expression.startswith(prefix):
        return None
    try:
        value: Any = json.loads(body)
    except ValueError:
        return None
    for part in expression[len(prefix) :].split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if isinstance(value, dict | list) or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _handler_accepts(value: Any) -> bool:
    """A $connect handler admits the client unless it answers with a non-2xx statusCode."""
    if isinstance(value, dict) and "statusCode" in value:
        try:
            return 200 <= int(value["statusCode"]) < 300
        except (TypeError, ValueError):
            return False
    return True


def _gone(connection_id: str) -> Response:
    return JSONResponse(
        {"message": f"Connection {connection_id} is gone"},
        status_code=410,
        headers={"x-amzn-ErrorType": "GoneException"},
    )


class WebSocketGateway:
    def __init__(self, apis: list[WebSocketApi], invoker: Invoker, *, domain_name: str) -> None:
        self._apis = {api.stage: api for api in apis}
        self._invoker = invoker
        self._domain_name = domain_name
        # Only ever touched on the event loop, so a plain dict needs no lock.
        self._connections: dict[str, Connection] = {}

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = []
        for stage in self._apis:
            routes.append(WebSocketRoute(f"/{stage}", self._serve))
            routes.append(
                Route(
                    f"/{stage}/@connections/{{connection_id}}",
                    self._manage,
                    methods=["GET", "POST", "DELETE"],
                )
            )
        return routes

    # --- events ------------------------------------------------------------------------------------------

    def _request_context(self, conn: Connection, route_key: str, event_type: str) -> dict[str, Any]:
        epoch_ms = now_ms()
        request_id = new_aws_id()
        context: dict[str, Any] = {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": clf_time(epoch_ms),
            "messageDirection": "IN",
            "stage": conn.api.stage,
            "connectedAt": conn.connected_at_ms,
            "requestTimeEpoch": epoch_ms,
            "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
            "requestId": request_id,
            "domainName": self._domain_name,
            "connectionId": conn.connection_id,
            "apiId": conn.api.api_id,
        }
        if event_type == "MESSAGE":
            context["messageId"] = new_aws_id()
        return context

    def _connect_event(self, conn: Connection, raw_query: str) -> dict[str, Any]:
        event: dict[str, Any] = {
            "headers": {name: ",".join(values) for name, values in conn.headers.items()},
            "multiValueHeaders": conn.headers,
            "requestContext": self._request_context(conn, CONNECT_ROUTE, "CONNECT"),
            "isBase64Encoded": False,
        }
        query = split_query(raw_query)
        if query:
            event["queryStringParameters"] = {k: vs[-1] for k, vs in query.items()}
            event["multiValueQueryStringParameters"] = query
        return event

    def _message_event(self, conn: Connection, route_key: str, body: str, is_b64: bool) -> dict[str, Any]:
        return {
            "requestContext": self._request_context(conn, route_key, "MESSAGE"),
            "body": body,
            "isBase64Encoded": is_b64,
        }

    def _disconnect_event(self, conn: Connection, code: int, reason: str) -> dict[str, Any]:
        # API Gateway sends a reduced header set on $disconnect; Powertools' model requires both maps.
        headers = {
            "Host": conn.headers.get("Host", [self._domain_name]),
            "X-Forwarded-For": [conn.source_ip],
        }
        context = self._request_context(conn, DISCONNECT_ROUTE, "DISCONNECT")
        context["disconnectStatusCode"] = code
        context["disconnectReason"] = reason or _CLOSE_REASONS.get(code, "")
        return {
            "headers": {k: ",".join(v) for k, v in headers.items()},
            "multiValueHeaders": headers,
            "requestContext": context,
            "isBase64Encoded": False,
        }

    # --- the socket --------------------------------------------------------------------------------------

    async def _serve(self, websocket: WebSocket) -> None:
        api = self._apis[websocket.scope["path"].strip("/")]
        pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in websocket.scope["headers"]]
        headers = group_pairs((_canonical_header(k), v) for k, v in pairs)
        if "X-Forwarded-For" not in headers:
            headers["X-Forwarded-For"] = [websocket.client.host if websocket.client else "127.0.0.1"]
        started = now_ms()
        conn = Connection(
            connection_id=new_aws_id(),
            api=api,
            websocket=websocket,
            source_ip=websocket.client.host if websocket.client else "127.0.0.1",
            user_agent=",".join(headers.get("User-Agent", [])),
            headers=headers,
            connected_at_ms=started,
            last_active_ms=started,
        )
        connect_function = api.routes.get(CONNECT_ROUTE)
        if connect_function is not None:
            raw_query = websocket.scope.get("query_string", b"").decode("latin-1")
            outcome = await invoke_json(self._invoker, connect_function, self._connect_event(conn, raw_query))
            if not (outcome.ok and _handler_accepts(outcome.value)):
                # Closing before accept makes the server answer the handshake with 403, as AWS does.
                await websocket.close()
                return
        await websocket.accept()
        self._connections[conn.connection_id] = conn
        code, reason = 1006, ""
        try:
            send_stream, receive_stream = anyio.create_memory_object_stream[tuple[str, bool]](1000)
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._process_messages, conn, receive_stream)
                async with send_stream:
                    while True:
                        message = await websocket.receive()
                        if message["type"] == "websocket.disconnect":
                            code = int(message.get("code") or 1005)
                            reason = message.get("reason") or ""
                            break
                        conn.last_active_ms = now_ms()
                        if message.get("text") is not None:
                            await send_stream.send((message["text"], False))
                        elif message.get("bytes") is not None:
                            await send_stream.send((base64.b64encode(message["bytes"]).decode("ascii"), True))
        finally:
            conn.open = False
            self._connections.pop(conn.connection_id, None)
            if conn.server_close is not None:
                code, reason = conn.server_close
            await self._fire_disconnect(conn, code, reason)

    async def _process_messages(
        self, conn: Connection, messages: MemoryObjectReceiveStream[tuple[str, bool]]
    ) -> None:
        # One at a time and in order, like a single client's frames; messages that arrived before the
        # client left are still delivered, as API Gateway does.
        async with messages:
            async for body, is_b64 in messages:
                await self._route_message(conn, body, is_b64)

    async def _route_message(self, conn: Connection, body: str, is_b64: bool) -> None:
        selected = None if is_b64 else select_route_key(conn.api.route_selection_expression, body)
        route_key = selected if selected in conn.api.routes else DEFAULT_ROUTE
        function = conn.api.routes.get(route_key)
        event = self._message_event(conn, route_key, body, is_b64)
        request_id = event["requestContext"]["requestId"]
        if function is None or route_key in (CONNECT_ROUTE, DISCONNECT_ROUTE):
            reply = {"message": "Forbidden", "connectionId": conn.connection_id, "requestId": request_id}
            await conn.send(json.dumps(reply))
            return
        outcome = await invoke_json(self._invoker, function, event)
        if not outcome.ok:
            reply = {
                "message": "Internal server error",
                "connectionId": conn.connection_id,
                "requestId": request_id,
            }
            await conn.send(json.dumps(reply))

    async def _fire_disconnect(self, conn: Connection, code: int, reason: str) -> None:
        function = conn.api.routes.get(DISCONNECT_ROUTE)
        if function is None:
            return
        # Shielded so a server shutdown that cancels the socket task still lets the handler clean up.
        with anyio.CancelScope(shield=True):
            await invoke_json(self._invoker, function, self._disconnect_event(conn, code, reason))

    # --- @connections --------------------------------------------------------------------------------------

    async def _manage(self, request: Request) -> Response:
        connection_id = request.path_params["connection_id"]
        stage = request.url.path.split("/", 2)[1]
        conn = self._connections.get(connection_id)
        if conn is None or not conn.open or conn.api.stage != stage:
            return _gone(connection_id)
        if request.method == "GET":
            return JSONResponse(
                {
                    "connectedAt": _iso(conn.connected_at_ms),
                    "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
                    "lastActiveAt": _iso(conn.last_active_ms),
                }
            )
        if request.method == "DELETE":
            if not await conn.close(1000, ""):
                return _gone(connection_id)
            return Response(status_code=204)
        data = await request.body()
        if len(data) > MAX_POST_BYTES:
            return JSONResponse(
                {"message": "Message too long"},
                status_code=413,
                headers={"x-amzn-ErrorType": "PayloadTooLargeException"},
            )
        try:
            frame: str | bytes = data.decode("utf-8")
        except UnicodeDecodeError:
            frame = data
        if not await conn.send(frame):
            return _gone(connection_id)
        return Response(status_code=200)
