"""OpenAI embeddings (``text-embedding-3-small`` by default) over the ``openai`` SDK: batched, retried.

* Batches of up to ``batch_size`` texts per request (the API takes 2,048 inputs, 300k tokens per request).
* ``dimensions`` is sent for the text-embedding-3 models (they can shorten their vectors); the index is tied
  to ``name`` = ``openai:<model>`` and ``dimension``, so changing either asks for a new index.
* Retries 429, 5xx, timeouts and connection errors with full-jitter exponential backoff, honouring
  ``Retry-After``; then raises ``TransientError``. 401/403 raise ``ConfigurationError``, other 4xx
  ``PermanentError``. A reply whose vectors are missing or of the wrong size is a ``TransientError``.
* The SDK's own retries are off (``max_retries=0``): one retry policy, decided here.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from endurance.domain.errors import ConfigurationError, EnduranceError, PermanentError, TransientError

DEFAULT_MODEL = "text-embedding-3-small"
NATIVE_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class OpenAIEmbedder:
    def __init__(
        self,
        *,
        api_key: Callable[[], str],
        model: str = DEFAULT_MODEL,
        dimension: int | None = None,
        base_url: str | None = None,
        batch_size: int = 256,
        max_attempts: int = 4,
        timeout_s: float = 20.0,
        max_wait_s: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        native = NATIVE_DIMENSIONS.get(model)
        if dimension is None:
            if native is None:
                raise ConfigurationError(f"EMBEDDING_DIMENSION is needed for embedding model {model!r}")
            dimension = native
        if native is not None and not 1 <= dimension <= native:
            raise ConfigurationError(f"{model} gives at most {native} dimensions, not {dimension}")
        if model == "text-embedding-ada-002" and dimension != native:
            raise ConfigurationError("text-embedding-ada-002 cannot shorten its vectors")
        self.model = model
        self.dimension = dimension
        self.name = f"openai:{model}"
        self._send_dimensions = model.startswith("text-embedding-3")
        self._api_key = api_key
        self._base_url = base_url or None
        self._batch_size = max(1, min(batch_size, 2048))
        self._max_attempts = max(1, max_attempts)
        self._timeout_s = timeout_s
        self._max_wait_s = max_wait_s
        self._sleep = sleep
        self._client: Any = None

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            # The API rejects empty strings; a blank chunk or question still needs a vector of the right size.
            batch = [text if text.strip() else " " for text in texts[start : start + self._batch_size]]
            vectors.extend(self._embed_batch(batch))
        return vectors

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embed(texts)

    def _client_or_new(self) -> Any:
        if self._client is None:
            from openai import OpenAI

            self._client = OpenAI(
                api_key=self._api_key(), base_url=self._base_url, max_retries=0, timeout=self._timeout_s
            )
        return self._client

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        request: dict[str, Any] = {"model": self.model, "input": batch, "encoding_format": "float"}
        if self._send_dimensions:
            request["dimensions"] = self.dimension
        for attempt in range(1, self._max_attempts + 1):
            try:
                reply = self._client_or_new().embeddings.create(**request)
                return self._vectors(reply, len(batch))
            except TransientError as error:
                last: Exception = error
                retry_after = None
            except EnduranceError:  # a missing key (ConfigurationError) and the like: retrying cannot help
                raise
            except Exception as error:
                mapped, retry_after = _translate(error)
                if not isinstance(mapped, TransientError):
                    raise mapped from error
                last = mapped
            if attempt == self._max_attempts:
                raise last
            backoff = random.uniform(0, min(self._max_wait_s, 0.5 * 2 ** (attempt - 1)))
            self._sleep(min(self._max_wait_s, retry_after) if retry_after is not None else backoff)
        raise TransientError("unreachable")  # the loop always returns or raises

    def _vectors(self, reply: Any, expected: int) -> list[list[float]]:
        try:
            items = sorted(reply.data, key=lambda item: item.index)
            vectors = [list(map(float, item.embedding)) for item in items]
        except (AttributeError, TypeError, ValueError) as error:
            raise TransientError(f"OpenAI embeddings: malformed reply ({error})") from error
        if len(vectors) != expected or any(len(v) != self.dimension for v in vectors):
            raise TransientError(
                f"OpenAI embeddings: expected {expected} vectors of {self.dimension} dimensions, got "
                f"{len(vectors)} of {sorted({len(v) for v in vectors})}"
            )
        return vectors


def _translate(error: Exception) -> tuple[Exception, float | None]:
    import openai

    if isinstance(error, openai.APITimeoutError):
        return TransientError("OpenAI embeddings: the request timed out"), None
    if isinstance(error, openai.APIConnectionError):
        return TransientError("OpenAI embeddings: cannot connect"), None
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        retry_after = _retry_after(error)
        detail = f"OpenAI embeddings answered {status}"
        if status in (401, 403):
            return ConfigurationError(f"{detail}: check OPENAI_API_KEY"), None
        if status == 429 or status >= 500:
            return TransientError(detail), retry_after
        return PermanentError(f"{detail}: {str(error.message)[:300]}"), None
    return TransientError(f"OpenAI embeddings: {type(error).__name__}"), None


def _retry_after(error: Any) -> float | None:
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
