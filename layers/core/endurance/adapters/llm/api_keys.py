"""Where a provider's API key comes from: the environment locally; SSM Parameter Store or Secrets Manager
on AWS (read with boto3 on first use, cached for ``ttl_seconds`` so a rotated key is picked up without a
redeploy). A key is never logged, and never put in Settings (which may be logged).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from endurance.domain.errors import ConfigurationError


@dataclass(frozen=True)
class KeySource:
    """Where to look, in order: ``env`` (a variable name), then ``parameter`` (SSM), then ``secret``."""

    env: str
    parameter: str = ""
    secret: str = ""

    def describe_settings(self) -> str:
        return f"{self.env}, or {self.env}_PARAMETER (SSM) or {self.env}_SECRET (Secrets Manager)"

    def describe(self) -> str:
        places = [f"${self.env}"]
        if self.parameter:
            places.append(f"SSM parameter {self.parameter}")
        if self.secret:
            places.append(f"secret {self.secret}")
        return " or ".join(places)


class ApiKeyResolver:
    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        client_factory: Callable[[str], Any] | None = None,
        ttl_seconds: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._environ = environ
        self._client_factory = client_factory
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, str]] = {}
        self._lock = threading.Lock()

    def resolve_env(self, source: KeySource) -> str | None:
        environ = os.environ if self._environ is None else self._environ
        return environ.get(source.env, "").strip() or None

    def resolve(self, source: KeySource) -> str | None:
        """The key, or None when no place is configured for it."""
        value = self.resolve_env(source)
        if value:
            return value
        if source.parameter:
            return self._cached(("ssm", source.parameter), lambda: self._from_ssm(source.parameter))
        if source.secret:
            return self._cached(("secret", source.secret), lambda: self._from_secret(source.secret))
        return None

    def require(self, source: KeySource, provider: str) -> str:
        key = self.resolve(source)
        if not key:
            raise ConfigurationError(f"no API key for {provider}: set {source.describe()}")
        return key

    def _cached(self, cache_key: tuple[str, str], load: Callable[[], str]) -> str:
        with self._lock:
            hit = self._cache.get(cache_key)
            if hit and self._clock() - hit[0] < self._ttl:
                return hit[1]
        value = load()
        with self._lock:
            self._cache[cache_key] = (self._clock(), value)
        return value

    def _client(self, service: str) -> Any:
        if self._client_factory is not None:
            return self._client_factory(service)
        from endurance.adapters.aws.clients import client

        return client(service)

    def _from_ssm(self, name: str) -> str:
        from endurance.adapters.aws.clients import aws_errors

        with aws_errors(f"reading the API key from SSM parameter {name}"):
            reply = self._client("ssm").get_parameter(Name=name, WithDecryption=True)
        return str(reply["Parameter"]["Value"]).strip()

    def _from_secret(self, secret_id: str) -> str:
        from endurance.adapters.aws.clients import aws_errors

        with aws_errors(f"reading the API key from secret {secret_id}"):
            reply = self._client("secretsmanager").get_secret_value(SecretId=secret_id)
        return _key_in_secret(str(reply.get("SecretString", "")).strip())


def _key_in_secret(value: str) -> str:
    """A secret holds the bare key, or JSON with an ``api_key`` field (the console's key/value form)."""
    if not value.startswith("{"):
        return value
    try:
        data = json.loads(value)
    except ValueError:
        return value
    if isinstance(data, dict):
        if isinstance(data.get("api_key"), str):
            return data["api_key"].strip()
        if len(data) == 1 and isinstance(next(iter(data.values())), str):
            return str(next(iter(data.values()))).strip()
    return value
