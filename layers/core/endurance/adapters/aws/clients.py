"""Cached boto3 clients and the translation of AWS errors into the core's error classes.

boto3 is imported on first use, not at module import, to keep cold starts of handlers that never touch a
given service cheap. Clients are cached per container (boto3 clients are thread-safe; sessions are not, so
one session is created under a lock). `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_<SERVICE>`) is honoured
by boto3 itself (>= 1.28), which is how the local runtime points every handler at moto.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from endurance.domain.errors import PermanentError, TransientError

_lock = threading.Lock()

# Throttling and server-side failures: retrying later may succeed, so Step Functions retries them by name.
_TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "KMSThrottlingException",
    }
)


@cache
def _session() -> Any:
    import boto3.session

    return boto3.session.Session()


def _config() -> Any:
    from botocore.config import Config

    # Short timeouts: a Lambda should fail fast (and be retried by its caller) rather than hang to its own
    # timeout. "standard" retry mode retries throttling and 5xx with jittered backoff; AWS_MAX_ATTEMPTS
    # still overrides the number of attempts.
    attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or 3)
    return Config(
        connect_timeout=3, read_timeout=10, retries={"mode": "standard", "total_max_attempts": attempts}
    )


@cache
def client(service: str, endpoint_url: str | None = None) -> Any:
    """A boto3 client for `service`, cached per (service, endpoint) for the life of the container."""
    with _lock:
        session = _session()
        kwargs: dict[str, Any] = {"config": _config()}
        if endpoint_url:
            kwargs["endpoint_url"] = endpoint_url
        return session.client(service, **kwargs)


def reset_clients() -> None:
    """Forget cached clients (tests change AWS_ENDPOINT_URL between runs)."""
    client.cache_clear()
    _session.cache_clear()


def error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def is_transient(error: BaseException) -> bool:
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    if isinstance(
        error, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError
    ):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(error) in _TRANSIENT_CODES or int(status or 0) >= 500
    return False


@contextmanager
def aws_errors(operation: str) -> Iterator[None]:
    """Re-raise AWS failures as TransientError (worth a retry) or PermanentError, naming the operation.

    Step Functions retries and catches by error class name, so the class is what matters; the original
    botocore exception stays chained for the logs.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, BotoCoreError) as error:
        code = error_code(error) or type(error).__name__
        message = f"{operation} failed: {code}: {error}"
        if is_transient(error):
            raise TransientError(message) from error
        raise PermanentError(message) from error
