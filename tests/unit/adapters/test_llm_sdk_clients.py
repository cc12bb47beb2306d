"""The real `groq` and `openai` SDKs over real HTTP against the loopback fake (real providers are not
reachable here): replies and every failure mode map to our errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from endurance.adapters.llm.errors import (
    LlmBadResponse,
    LlmRateLimited,
    LlmRejected,
    LlmTimeout,
    LlmUnavailable,
)
from endurance.adapters.llm.sdk_client import SdkChat, retry_after_seconds

from tests.unit.adapters.fake_openai_server import (
    FakeOpenAIServer,
    malformed,
    not_a_completion,
    ok,
    rate_limited,
    server_error,
    slow,
    unauthorized,
)

PROVIDERS = ("groq", "openai")
MESSAGES: list[Any] = [{"role": "user", "content": "How long is CCTV kept?"}]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


def sdk_chat(
    provider: str, server: FakeOpenAIServer, *, timeout: float = 5.0, key: str = "test-key"
) -> SdkChat:
    def client() -> Any:
        if provider == "groq":
            import groq

            return groq.Groq(api_key=key, base_url=server.groq_base_url, timeout=timeout, max_retries=0)
        import openai

        return openai.OpenAI(api_key=key, base_url=server.openai_base_url, timeout=timeout, max_retries=0)

    return SdkChat(provider=provider, model="llama-3.1-8b-instant", client_factory=client, max_tokens=64)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_reply_becomes_a_completion_with_usage(provider: str, server: FakeOpenAIServer) -> None:
    server.script(ok("30 days [1].", tokens=(120, 7)))
    completion = sdk_chat(provider, server).complete(MESSAGES)
    assert (completion.text, completion.tokens_in, completion.tokens_out) == ("30 days [1].", 120, 7)
    assert completion.provider == provider and completion.model == "llama-3.1-8b-instant"
    (request,) = server.requests
    assert request.path == ("/openai/v1/chat/completions" if provider == "groq" else "/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer test-key"
    assert request.body["model"] == "llama-3.1-8b-instant" and request.body["messages"] == MESSAGES
    assert request.body["max_tokens"] == 64 and request.body["temperature"] == 0.0
    assert "response_format" not in request.body


@pytest.mark.parametrize("provider", PROVIDERS)
def test_json_mode_asks_for_a_json_object(provider: str, server: FakeOpenAIServer) -> None:
    sdk_chat(provider, server).complete(MESSAGES, json_mode=True, max_tokens=20)
    assert server.requests[0].body["response_format"] == {"type": "json_object"}
    assert server.requests[0].body["max_tokens"] == 20


@pytest.mark.parametrize("provider", PROVIDERS)
def test_429_is_rate_limited_with_the_retry_after(provider: str, server: FakeOpenAIServer) -> None:
    server.script(rate_limited("7"))
    with pytest.raises(LlmRateLimited) as caught:
        sdk_chat(provider, server).complete(MESSAGES)
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_server_errors_are_unavailable(provider: str, status: int, server: FakeOpenAIServer) -> None:
    server.script(server_error(status))
    with pytest.raises(LlmUnavailable, match=f"HTTP {status}"):
        sdk_chat(provider, server).complete(MESSAGES)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_slow_reply_times_out(provider: str, server: FakeOpenAIServer) -> None:
    server.script(slow(1.5))
    with pytest.raises(LlmTimeout):
        sdk_chat(provider, server, timeout=0.3).complete(MESSAGES)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_malformed_json_is_a_bad_response(provider: str, server: FakeOpenAIServer) -> None:
    server.script(malformed())
    with pytest.raises(LlmBadResponse):
        sdk_chat(provider, server).complete(MESSAGES)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_json_that_is_not_a_completion_is_a_bad_response(provider: str, server: FakeOpenAIServer) -> None:
    server.script(not_a_completion())
    with pytest.raises(LlmBadResponse):
        sdk_chat(provider, server).complete(MESSAGES)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_empty_message_is_a_bad_response(provider: str, server: FakeOpenAIServer) -> None:
    server.script(ok("   "))
    with pytest.raises(LlmBadResponse, match="no message text"):
        sdk_chat(provider, server).complete(MESSAGES)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_bad_key_is_rejected_permanently_with_the_providers_reason(
    provider: str, server: FakeOpenAIServer
) -> None:
    server.script(unauthorized())
    with pytest.raises(LlmRejected, match="Invalid API Key") as caught:
        sdk_chat(provider, server, key="wrong").complete(MESSAGES)
    assert caught.value.status == 401
    assert "wrong" not in str(caught.value)  # the key never ends up in an error message


@pytest.mark.parametrize("provider", PROVIDERS)
def test_nothing_listening_is_unavailable(provider: str) -> None:
    with FakeOpenAIServer() as closed:
        pass  # started and stopped: the port now refuses connections
    with pytest.raises(LlmUnavailable, match="connection failed"):
        sdk_chat(provider, closed, timeout=2.0).complete(MESSAGES)


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412485.0) == 5.0
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None
