"""Errors with names Step Functions can Retry/Catch on, and errors the API maps to statuses."""

from __future__ import annotations


class EnduranceError(Exception):
    """Base of every error the core raises on purpose."""


class TransientError(EnduranceError):
    """Worth retrying: throttling, 5xx, timeouts. The state machine retries it by this class name."""


class PermanentError(EnduranceError):
    """Retrying will not help (bad input that slipped through, misconfiguration)."""


class NotFoundError(EnduranceError):
    pass


class ConflictError(EnduranceError):
    pass


class ConfigurationError(PermanentError):
    pass
