"""The OpenAI embedder over the real ``openai`` SDK and real HTTP, against a loopback fake of the
``POST /v1/embeddings`` API (OpenAI itself is not reachable here): batching, dimensions, retries on 429/5xx
with Retry-After, timeouts, malformed replies and auth errors."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from endurance.adapters.openai_embeddings import OpenAIEmbedder
from endurance.domain.errors import ConfigurationError, PermanentError, TransientError


class FakeOpenAI:
    """Answers like the embeddings API; ``script`` holds what the next requests get: a status, "slow",
    "malformed", or None for a good reply."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[Any] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                fake.requests.append(
                    {"path": self.path, "auth": self.headers.get("authorization"), "body": body}
                )
                step = fake.script.pop(0) if fake.script else None
                if step == "slow":
                    time.sleep(1.5)
                if isinstance(step, int):
                    self._send(
                        step,
                        {"error": {"message": f"status {step}", "type": "x", "code": None}},
                        {"retry-after": "0"} if step == 429 else {},
                    )
                    return
                if step == "malformed":
                    self._send(200, {"object": "list", "data": [{"index": 0, "embedding": "nope"}]})
                    return
                size = body.get("dimensions", 1536)
                data = [
                    {"object": "embedding", "index": i, "embedding": _vector(text, size)}
                    for i, text in enumerate(body["input"])
                ]
                self._send(
                    200,
                    {
                        "object": "list",
                        "data": data[::-1],
                        "model": body["model"],
                        "usage": {"prompt_tokens": 3, "total_tokens": 3},
                    },
                )

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


def _vector(text: str, size: int) -> list[float]:
    seed = hashlib.sha256(text.encode()).digest()
    return [seed[i % 32] / 255.0 for i in range(size)]


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _embedder(fake: FakeOpenAI, **kwargs: Any) -> OpenAIEmbedder:
    waits: list[float] = []
    embedder = OpenAIEmbedder(api_key=lambda: "sk-test", base_url=fake.url, sleep=waits.append, **kwargs)
    embedder.waits = waits  # type: ignore[attr-defined]
    return embedder


def test_batches_keep_order_and_send_dimensions(fake: FakeOpenAI) -> None:
    embedder = _embedder(fake, dimension=256, batch_size=2)
    texts = ["one", "two", "three", ""]
    vectors = embedder.embed(texts)
    assert [len(v) for v in vectors] == [256] * 4
    assert vectors[0] == _vector("one", 256) and vectors[2] == _vector("three", 256)
    assert [r["body"]["input"] for r in fake.requests] == [["one", "two"], ["three", " "]]
    assert all(
        r["body"]["dimensions"] == 256 and r["body"]["model"] == "text-embedding-3-small"
        for r in fake.requests
    )
    assert fake.requests[0]["auth"] == "Bearer sk-test" and fake.requests[0]["path"] == "/v1/embeddings"
    assert (embedder.name, embedder.dimension) == ("openai:text-embedding-3-small", 256)


def test_retries_rate_limits_and_server_errors(fake: FakeOpenAI) -> None:
    embedder = _embedder(fake, dimension=8)
    fake.script = [429, 500, None]
    assert len(embedder.embed(["x"])[0]) == 8
    assert len(fake.requests) == 3
    assert embedder.waits[0] == 0.0, "Retry-After: 0 is honoured"  # type: ignore[attr-defined]


def test_gives_up_with_a_transient_error(fake: FakeOpenAI) -> None:
    embedder = _embedder(fake, dimension=8, max_attempts=3)
    fake.script = [503, 503, 503]
    with pytest.raises(TransientError, match="503"):
        embedder.embed(["x"])
    assert len(fake.requests) == 3


def test_timeouts_and_malformed_replies_are_transient(fake: FakeOpenAI) -> None:
    slow = _embedder(fake, dimension=8, max_attempts=1, timeout_s=0.3)
    fake.script = ["slow"]
    with pytest.raises(TransientError, match="timed out"):
        slow.embed(["x"])
    broken = _embedder(fake, dimension=8, max_attempts=1)
    fake.script = ["malformed"]
    with pytest.raises(TransientError, match=r"malformed|expected"):
        broken.embed(["x"])


def test_auth_and_bad_requests_are_not_retried(fake: FakeOpenAI) -> None:
    embedder = _embedder(fake, dimension=8)
    fake.script = [401]
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        embedder.embed(["x"])
    fake.script = [400]
    with pytest.raises(PermanentError, match="400"):
        embedder.embed(["x"])
    assert len(fake.requests) == 2


def test_dimension_is_checked_against_the_model() -> None:
    with pytest.raises(ConfigurationError, match="at most 1536"):
        OpenAIEmbedder(api_key=lambda: "k", dimension=4096)
    with pytest.raises(ConfigurationError, match="EMBEDDING_DIMENSION"):
        OpenAIEmbedder(api_key=lambda: "k", model="my-own-model")
    assert OpenAIEmbedder(api_key=lambda: "k").dimension == 1536


def test_the_providers_factory_builds_it_from_settings(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from endurance.config import Settings
    from endurance.providers import build_embedder, clear_cache

    clear_cache()
    settings = Settings.from_env(
        {"EMBEDDER": "openai", "EMBEDDING_BASE_URL": fake.url, "EMBEDDING_DIMENSION": "16"}
    )
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    try:
        with pytest.raises(ConfigurationError, match="no API key"):
            build_embedder(settings).embed(["x"])
        clear_cache()
        monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
        embedder = build_embedder(settings)
        assert (embedder.name, embedder.dimension) == ("openai:text-embedding-3-small", 16)
        assert len(embedder.embed(["x"])[0]) == 16
        assert fake.requests[-1]["auth"] == "Bearer sk-from-env"
    finally:
        clear_cache()
