"""The LLM answer generator and the failover chain, over the real SDKs and the loopback fake."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from endurance import providers
from endurance.adapters.llm.errors import LlmRejected, LlmUnavailable
from endurance.adapters.llm.fallback import FallbackGenerator
from endurance.adapters.llm.generator import LlmAnswerGenerator
from endurance.adapters.llm.resilience import CircuitBreaker, ResilientChat, RetryPolicy
from endurance.adapters.offline.extractive_answerer import REFUSAL_TEXT, ExtractiveAnswerer
from endurance.config import Settings
from endurance.domain.errors import ConfigurationError, PermanentError, TransientError
from endurance.domain.models import Chunk, Route
from endurance.pipeline.answer import answer

from tests.unit.adapters.fake_openai_server import (
    FakeOpenAIServer,
    ok,
    rate_limited,
    server_error,
    unauthorized,
)
from tests.unit.adapters.test_llm_sdk_clients import sdk_chat

CHUNKS = [
    Chunk(
        chunk_id="travel#11",
        doc="travel.md",
        section="11. Gifts",
        text="Gifts above VLC 75 must be declared.",
    ),
    Chunk(
        chunk_id="proc#14", doc="proc.md", section="14. Gifts", text="Gifts above VLC 50 must be declared."
    ),
    Chunk(chunk_id="dp#6", doc="dp.md", section="6. Retention", text="CCTV footage is kept for 30 days."),
]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
def backup() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


def generator(server: FakeOpenAIServer, provider: str = "openai", attempts: int = 1) -> LlmAnswerGenerator:
    chat = ResilientChat(
        sdk_chat(provider, server),
        retry=RetryPolicy(max_attempts=attempts, sleep=lambda s: None),
        breaker=CircuitBreaker(failure_threshold=5),
    )
    return LlmAnswerGenerator(chat)


def test_grounded_prompt_and_citations_renumbered_to_the_cited_chunks(server: FakeOpenAIServer) -> None:
    server.script(ok("Procurement: VLC 50 [2]. Travel: VLC 75 [1, 2]. Unknown [9].", tokens=(1000, 20)))
    result = generator(server).generate("Is the gift limit the same?", CHUNKS, route=Route.RAG)
    assert result.text == "Procurement: VLC 50 [1]. Travel: VLC 75 [2][1]. Unknown."
    assert [source.chunk_id for source in result.sources] == ["proc#14", "travel#11"]
    assert not result.refusal
    assert (result.provider, result.model, result.tokens_in, result.tokens_out) == (
        "openai",
        "llama-3.1-8b-instant",
        1000,
        20,
    )
    assert result.cost_usd == pytest.approx((1000 * 0.05 + 20 * 0.08) / 1e6)
    assert result.latency_ms > 0
    prompt = server.requests[0].prompt
    assert "[2] (proc.md — 14. Gifts)\nGifts above VLC 50 must be declared." in prompt
    assert "Question: Is the gift limit the same?" in prompt and REFUSAL_TEXT in prompt


def test_a_refusal_reply_is_a_refusal_without_sources(server: FakeOpenAIServer) -> None:
    server.script(ok("I could not find this in the documents."))
    result = generator(server).generate("What is the fine?", CHUNKS, route=Route.RAG)
    assert (result.text, result.refusal, result.sources) == (REFUSAL_TEXT, True, [])
    server.script(ok("The documents do not mention any fine."))
    assert generator(server).generate("What is the fine?", CHUNKS, route=Route.RAG).refusal


def test_no_chunks_means_a_refusal_without_a_call(server: FakeOpenAIServer) -> None:
    result = generator(server).generate("What is the fine?", [], route=Route.RAG)
    assert result.refusal and server.requests == [] and result.cost_usd == 0.0


def test_small_talk_uses_the_direct_prompt(server: FakeOpenAIServer) -> None:
    server.script(ok("Hello! How can I help with the documents?"))
    result = generator(server).generate("Good morning!", [], route=Route.DIRECT)
    assert result.text.startswith("Hello") and result.sources == []
    assert "Do not state any facts" in server.requests[0].prompt


def test_failover_to_the_next_provider(server: FakeOpenAIServer, backup: FakeOpenAIServer) -> None:
    server.script(server_error(503))
    backup.script(ok("CCTV is kept for 30 days [3]."))
    chain = FallbackGenerator([generator(server, "groq"), generator(backup, "openai")])
    result = chain.generate("How long is CCTV kept?", CHUNKS, route=Route.RAG)
    assert result.provider == "openai" and result.text == "CCTV is kept for 30 days [1]."
    assert [s.chunk_id for s in result.sources] == ["dp#6"]
    assert len(server.requests) == 1 and len(backup.requests) == 1


def test_failover_to_the_offline_generator_when_every_llm_is_down(
    server: FakeOpenAIServer, backup: FakeOpenAIServer
) -> None:
    server.script(rate_limited("600"))
    backup.script(server_error(500))
    chain = FallbackGenerator([generator(server, "groq"), generator(backup), ExtractiveAnswerer()])
    result = answer("How long is CCTV footage kept?", CHUNKS, generator=chain)
    assert result.provider == "offline" and "30 days" in result.text and result.sources


def test_a_chain_that_fails_transiently_leaves_as_a_plain_transient_error(
    server: FakeOpenAIServer, backup: FakeOpenAIServer
) -> None:
    server.script(server_error(502))
    backup.script(rate_limited("1"))
    chain = FallbackGenerator([generator(server, "groq"), generator(backup)])
    with pytest.raises(TransientError) as caught:
        answer("How long is CCTV kept?", CHUNKS, generator=chain)
    # Step Functions retries by the exact name "TransientError"; what happened stays in the message/chain.
    assert type(caught.value) is TransientError
    assert "LlmUnavailable" in str(caught.value) and "HTTP 502" in str(caught.value)
    assert isinstance(caught.value.__cause__, LlmUnavailable)


def test_a_chain_rejected_everywhere_is_permanent(server: FakeOpenAIServer, backup: FakeOpenAIServer) -> None:
    server.script(unauthorized())
    backup.script(unauthorized())
    chain = FallbackGenerator([generator(server, "groq"), generator(backup)])
    with pytest.raises(LlmRejected) as caught:
        answer("How long is CCTV kept?", CHUNKS, generator=chain)
    assert isinstance(caught.value, PermanentError) and not isinstance(caught.value, TransientError)


@pytest.fixture
def fresh_providers() -> Iterator[None]:
    providers.clear_cache()
    yield
    providers.clear_cache()


def test_settings_build_the_chain_end_to_end(
    server: FakeOpenAIServer, backup: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, fresh_providers: None
) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "groq-test-key")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    settings = Settings.from_env(
        {
            "LLM_PROVIDER": "groq",
            "LLM_FALLBACKS": "openai,offline",
            "GROQ_BASE_URL": server.groq_base_url,
            "GROQ_MODEL": "llama-3.3-70b-versatile",
            "OPENAI_BASE_URL": backup.openai_base_url,  # a local server: no key needed
            "OPENAI_MODEL": "local-model",
            "LLM_MAX_ATTEMPTS": "1",
        }
    )
    built = providers.build_generator(settings)
    assert isinstance(built, FallbackGenerator)
    assert built.name == "groq:llama-3.3-70b-versatile -> openai:local-model -> extractive"
    server.script(ok("Kept 30 days [3].", tokens=(2000, 10)))
    first = built.generate("How long is CCTV kept?", CHUNKS, route=Route.RAG)
    assert first.provider == "groq" and first.cost_usd == pytest.approx((2000 * 0.59 + 10 * 0.79) / 1e6)
    assert server.requests[0].headers["authorization"] == "Bearer groq-test-key"
    assert server.requests[0].path == "/openai/v1/chat/completions"
    server.script(server_error(500))
    backup.script(ok("Kept 30 days [3]."))
    second = built.generate("How long is CCTV kept?", CHUNKS, route=Route.RAG)
    assert second.provider == "openai" and backup.requests[0].headers["authorization"] == "Bearer not-needed"
    assert providers.build_generator(settings) is built


def test_an_llm_provider_without_a_key_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, fresh_providers: None
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="LLM_PROVIDER=openai needs an API key: set OPENAI_API_KEY"):
        providers.build_generator(Settings.from_env({"LLM_PROVIDER": "openai"}))
    with pytest.raises(ConfigurationError, match="LLM_FALLBACKS"):
        Settings.from_env({"LLM_FALLBACKS": "openai,claude"})


def test_offline_needs_no_llm_and_imports_no_sdk(fresh_providers: None) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from endurance import providers\n"
        "from endurance.config import Settings\n"
        "from endurance.domain.models import Route\n"
        "g = providers.build_generator(Settings())\n"
        "c = providers.build_classifier(Settings())\n"
        "g.generate('hello', [], route=Route.DIRECT); c('hello')\n"
        "heavy = [m for m in ('groq', 'openai', 'langchain_core') if m in sys.modules]\n"
        "print(type(g).__name__, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "ExtractiveAnswerer []"


def test_unavailable_is_transient() -> None:
    assert issubclass(LlmUnavailable, TransientError)
