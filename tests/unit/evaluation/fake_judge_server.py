"""A loopback stand-in for an OpenAI-compatible chat completions endpoint, for the LLM judge tests.

The real Groq/OpenAI APIs cannot be reached here, so the judge's real SDK calls go over real HTTP to this
server on 127.0.0.1. Each test queues the replies it wants (a verdict, a 500, malformed JSON, a slow reply)
and can read back the requests the SDK sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeJudgeServer:
    def __init__(self) -> None:
        self.replies: deque[tuple[int, Any, float]] = deque()
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(
                    {"path": self.path, "body": body, "authorization": self.headers.get("authorization")}
                )
                status, payload, delay = server.replies.popleft() if server.replies else (500, {}, 0.0)
                time.sleep(delay)
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeJudgeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reply_verdict(
        self, verdict: dict[str, Any] | str, *, tokens: tuple[int, int] = (120, 30), delay: float = 0.0
    ) -> None:
        content = verdict if isinstance(verdict, str) else json.dumps(verdict)
        self.replies.append((200, completion(content, tokens), delay))

    def reply_error(self, status: int) -> None:
        self.replies.append((status, {"error": {"message": "fake failure", "type": "server_error"}}, 0.0))


def completion(content: str, tokens: tuple[int, int]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": "fake",
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
        ],
        "usage": {
            "prompt_tokens": tokens[0],
            "completion_tokens": tokens[1],
            "total_tokens": tokens[0] + tokens[1],
        },
    }
