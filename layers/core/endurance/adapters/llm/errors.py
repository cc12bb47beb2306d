"""Provider failures, named for what a caller should do about them.

Transient ones (rate limits, 5xx, timeouts, garbled replies, an open circuit) subclass TransientError:
worth retrying, and worth failing over to the next provider. Rejections (bad key, bad request) subclass
PermanentError: the same request will fail again, so it is not retried. ``pipeline.answer`` turns a
transient failure that escapes the whole chain into a plain TransientError, the exact name the state
machine's Retry lists.
"""

from __future__ import annotations

from endurance.domain.errors import PermanentError, TransientError


class LlmRateLimited(TransientError):
    """HTTP 429. ``retry_after`` is the provider's Retry-After in seconds, when it sent one."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LlmUnavailable(TransientError):
    """5xx, 408/409, a refused or dropped connection, or every provider of a chain failing transiently."""


class LlmTimeout(TransientError):
    """The provider did not answer within the configured timeout."""


class LlmBadResponse(TransientError):
    """The reply could not be read (malformed JSON, no message, an unexpected shape)."""


class LlmCircuitOpen(TransientError):
    """The provider failed repeatedly and is skipped until its circuit breaker lets a trial call through."""


class LlmRejected(PermanentError):
    """4xx other than 408/409/429: bad request, bad or missing key, unknown model."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


LLM_ERRORS = (LlmRateLimited, LlmUnavailable, LlmTimeout, LlmBadResponse, LlmCircuitOpen, LlmRejected)
