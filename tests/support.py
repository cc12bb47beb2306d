"""Helpers shared by the test suites (ports, waiting)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from endurance_local.model import InvocationType, InvokeResult

T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    check: Callable[[], T | None], *, timeout: float = 20.0, interval: float = 0.1, what: str = ""
) -> T:
    """Poll until check() returns something truthy; fail with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        time.sleep(interval)


def moto_server() -> Iterator[str]:
    """A real moto server on a free loopback port; use with `yield from` in a fixture."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


Handler = Callable[[dict[str, Any]], Any]


class InProcessInvoker:
    """Runs Python callables as Lambda handlers and records every call (an honest model.Invoker)."""

    def __init__(self, handlers: dict[str, Handler]) -> None:
        self._handlers = handlers
        self._lock = threading.Lock()
        self.calls: list[tuple[str, dict[str, Any], InvocationType]] = []

    def invoke(
        self, function: str, payload: bytes, invocation_type: InvocationType = "RequestResponse"
    ) -> InvokeResult:
        event = json.loads(payload)
        with self._lock:
            self.calls.append((function, event, invocation_type))
        try:
            result = self._handlers[function](event)
        except Exception as exc:
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            return InvokeResult(json.dumps(error).encode(), function_error="Unhandled")
        return InvokeResult(json.dumps(result).encode())
