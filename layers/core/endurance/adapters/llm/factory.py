"""Build the chat models of the configured chain from Settings.

Each provider gets one ``ResilientChat`` per process, so the generator, the classifier and the condenser
share its circuit breaker. The SDK is imported, and the key read, on the first call, not here: building
only checks that a key has somewhere to come from, so a misconfiguration fails at once and clearly.
"""

from __future__ import annotations

from typing import Any

from endurance.adapters.llm.api_keys import ApiKeyResolver, KeySource
from endurance.adapters.llm.resilience import CircuitBreaker, ResilientChat, RetryPolicy
from endurance.adapters.llm.sdk_client import SdkChat
from endurance.config import Settings
from endurance.domain.errors import ConfigurationError

_KEY_RESOLVER = ApiKeyResolver()
# Local OpenAI-compatible servers (Ollama, llama.cpp, vLLM) ignore the key, but the SDK insists on one.
_UNUSED_KEY = "not-needed"


def key_source(provider: str, settings: Settings) -> KeySource:
    if provider == "groq":
        return KeySource("GROQ_API_KEY", settings.groq_api_key_parameter, settings.groq_api_key_secret)
    return KeySource("OPENAI_API_KEY", settings.openai_api_key_parameter, settings.openai_api_key_secret)


def build_chat(provider: str, settings: Settings, *, keys: ApiKeyResolver | None = None) -> ResilientChat:
    keys = keys or _KEY_RESOLVER
    source = key_source(provider, settings)
    configured = bool(keys.resolve_env(source) or source.parameter or source.secret)
    if provider == "groq":
        if not configured:
            raise ConfigurationError(f"LLM_PROVIDER=groq needs an API key: set {source.describe_settings()}")
        model, base_url = settings.groq_model, settings.groq_base_url or None
    elif provider == "openai":
        if not configured and not settings.openai_base_url:
            raise ConfigurationError(
                f"LLM_PROVIDER=openai needs an API key: set {source.describe_settings()} "
                "(or OPENAI_BASE_URL for a local server that needs none)"
            )
        model, base_url = settings.openai_model, settings.openai_base_url or None
    else:
        raise ConfigurationError(f"LLM_PROVIDER={provider} is not an LLM provider")

    def client() -> Any:
        key = keys.resolve(source) or (_UNUSED_KEY if base_url else keys.require(source, provider))
        options: dict[str, Any] = {"api_key": key, "timeout": settings.llm_timeout_seconds, "max_retries": 0}
        if base_url:
            options["base_url"] = base_url
        if provider == "groq":
            import groq

            return groq.Groq(**options)
        import openai

        return openai.OpenAI(**options)

    chat = SdkChat(
        provider=provider,
        model=model,
        client_factory=client,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
    )
    retry = RetryPolicy(
        max_attempts=settings.llm_max_attempts,
        max_retry_after=settings.llm_max_retry_wait_seconds,
        total_budget_seconds=settings.llm_total_budget_seconds,
    )
    breaker = CircuitBreaker(
        failure_threshold=settings.llm_breaker_failures, reset_after=settings.llm_breaker_reset_seconds
    )
    return ResilientChat(chat, retry=retry, breaker=breaker)
