"""Chat over the `groq` and `openai` SDKs, which share one shape (both are generated from OpenAPI specs):
``client.chat.completions.create(...)`` and the same exception names.

The SDKs' own retries are switched off (``max_retries=0``): ``resilience.ResilientChat`` retries, so
that Retry-After, jitter, the circuit breaker and failover are decided in one place.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from endurance.adapters.llm.chat import ChatMessage, Completion
from endurance.adapters.llm.errors import (
    LlmBadResponse,
    LlmRateLimited,
    LlmRejected,
    LlmTimeout,
    LlmUnavailable,
)
from endurance.domain.errors import EnduranceError

ClientFactory = Callable[[], Any]


class SdkChat:
    """A ``ChatModel`` over an SDK client built lazily by ``client_factory`` (no import, no key read before
    the first call)."""

    def __init__(
        self,
        *,
        provider: str,
        model: str,
        client_factory: ClientFactory,
        temperature: float = 0.0,
        max_tokens: int = 512,
    ) -> None:
        self.provider = provider
        self.model = model
        self._client_factory = client_factory
        self._client: Any = None
        self.temperature = temperature
        self.max_tokens = max_tokens

    def complete(
        self, messages: list[ChatMessage], *, json_mode: bool = False, max_tokens: int | None = None
    ) -> Completion:
        if self._client is None:
            self._client = self._client_factory()
        request: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": max_tokens or self.max_tokens,
        }
        if json_mode:
            request["response_format"] = {"type": "json_object"}
        started = time.perf_counter()
        try:
            reply = self._client.chat.completions.create(**request)
        except EnduranceError:
            raise
        except Exception as error:
            raise translate_error(error, self.provider) from error
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        return _completion(reply, self.provider, self.model, latency_ms)


def _completion(reply: Any, provider: str, model: str, latency_ms: float) -> Completion:
    """Read the reply defensively: a 200 can still carry something that is not a chat completion."""
    try:
        choice = reply.choices[0]
        text = choice.message.content
        usage = getattr(reply, "usage", None)
        tokens_in = int(getattr(usage, "prompt_tokens", 0) or 0)
        tokens_out = int(getattr(usage, "completion_tokens", 0) or 0)
        served_by = str(getattr(reply, "model", "") or model)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
        reason = type(error).__name__
        raise LlmBadResponse(f"{provider}: the reply is not a chat completion ({reason})") from error
    if not isinstance(text, str) or not text.strip():
        raise LlmBadResponse(f"{provider}: the reply has no message text")
    return Completion(
        text=text.strip(),
        provider=provider,
        model=served_by,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        latency_ms=latency_ms,
    )


def translate_error(error: Exception, provider: str) -> EnduranceError:
    """Map an SDK exception to ours, by the SDKs' shared class names (either SDK, no import needed)."""
    names = {cls.__name__ for cls in type(error).__mro__}
    if "APITimeoutError" in names:
        return LlmTimeout(f"{provider}: no reply within the timeout")
    if "APIConnectionError" in names:
        return LlmUnavailable(f"{provider}: connection failed ({error})")
    if "APIResponseValidationError" in names or isinstance(error, json.JSONDecodeError):
        return LlmBadResponse(f"{provider}: malformed reply ({type(error).__name__})")
    status = getattr(error, "status_code", None)
    if "APIStatusError" in names and isinstance(status, int):
        message = f"{provider}: HTTP {status}"
        if status == 429:
            response = getattr(error, "response", None)
            headers = getattr(response, "headers", None) or {}
            return LlmRateLimited(message + " (rate limited)", retry_after=retry_after_seconds(headers))
        if status in (408, 409) or status >= 500:
            return LlmUnavailable(message)
        return LlmRejected(f"{message} ({_short_reason(error)})", status=status)
    if isinstance(error, ValueError):  # e.g. a JSON body the SDK could not decode
        return LlmBadResponse(f"{provider}: malformed reply ({type(error).__name__})")
    return LlmUnavailable(f"{provider}: {type(error).__name__}")


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, ``retry-after`` (seconds or an HTTP date); None if absent."""
    lowered = {str(k).lower(): str(v) for k, v in dict(headers).items()}
    if "retry-after-ms" in lowered:
        try:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _short_reason(error: Exception) -> str:
    # The provider's own message, without echoing the request (which may hold user text).
    body = getattr(error, "body", None)
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and inner.get("message"):
            return str(inner["message"])[:200]
    return type(error).__name__
