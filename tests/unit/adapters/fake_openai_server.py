"""A loopback stand-in for an OpenAI-compatible chat-completions endpoint (OpenAI, Groq, vLLM, Ollama).

Real Groq and OpenAI cannot be reached from here, so the real `groq` and `openai` SDKs talk to this server
over real HTTP instead. It serves ``POST /v1/chat/completions`` (the OpenAI SDK's path) and
``POST /openai/v1/chat/completions`` (the Groq SDK's), records every request, and answers from a script:
200s, 429s with Retry-After, 5xx, slow replies, malformed JSON, or anything else a test needs. When the
script is empty it answers with ``default_reply(request_body)``.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATHS = ("/v1/chat/completions", "/openai/v1/chat/completions")


@dataclass
class Reply:
    status: int = 200
    content: str | None = "OK"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw_body: str | None = None  # sent verbatim (with a JSON content type) instead of a completion
    tokens: tuple[int, int] = (12, 5)


def ok(content: str, *, tokens: tuple[int, int] = (12, 5)) -> Reply:
    return Reply(content=content, tokens=tokens)


def rate_limited(retry_after: str | None = "1", *, header: str = "Retry-After") -> Reply:
    headers = {header: retry_after} if retry_after is not None else {}
    return Reply(
        status=429, headers=headers, raw_body='{"error": {"message": "Rate limit reached", "type": "tokens"}}'
    )


def server_error(status: int = 500) -> Reply:
    return Reply(status=status, raw_body='{"error": {"message": "internal error", "type": "server_error"}}')


def unauthorized() -> Reply:
    return Reply(
        status=401, raw_body='{"error": {"message": "Invalid API Key", "type": "invalid_request_error"}}'
    )


def slow(seconds: float, content: str = "late") -> Reply:
    return Reply(content=content, delay=seconds)


def malformed() -> Reply:
    return Reply(raw_body='{"id": "chatcmpl-1", "choices": [{"message": {"content": "trunc')


def not_a_completion() -> Reply:
    return Reply(raw_body='{"id": "chatcmpl-1", "object": "chat.completion"}')


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def prompt(self) -> str:
        return "\n".join(str(message.get("content", "")) for message in self.body.get("messages", []))


class FakeOpenAIServer:
    def __init__(self, default_reply: Callable[[dict[str, Any]], str] | None = None) -> None:
        self.default_reply = default_reply or (lambda body: "OK")
        self.requests: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits for one, and tests start many servers.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def openai_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def groq_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._script:
                return self._script.popleft()
        return ok(self.default_reply(body))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                if self.path not in CHAT_PATHS:
                    self._send(404, '{"error": {"message": "no such route"}}', {})
                    return
                with fake._lock:
                    fake.requests.append(
                        RecordedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                reply = fake._next(body)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.raw_body if reply.raw_body is not None else _completion(body, reply)
                # The client may have given up (a timeout test): then there is nobody to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(reply.status, payload, reply.headers)

            def _send(self, status: int, payload: str, headers: dict[str, str]) -> None:
                data = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _completion(request: dict[str, Any], reply: Reply) -> str:
    tokens_in, tokens_out = reply.tokens
    return json.dumps(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "fake-model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": tokens_in,
                "completion_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            },
        }
    )
