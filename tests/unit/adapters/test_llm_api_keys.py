"""API keys: the environment first, then SSM Parameter Store or Secrets Manager (a real moto server on
loopback stands in for AWS), cached with a time-to-live."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from endurance.adapters.llm.api_keys import ApiKeyResolver, KeySource
from endurance.domain.errors import ConfigurationError, PermanentError


@pytest.fixture
def boto(moto_url: str) -> Any:
    """boto3 clients for the session's moto server (tests/unit/conftest.py)."""

    def client(service: str) -> Any:
        return boto3.client(
            service,
            region_name="us-east-1",
            endpoint_url=moto_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_environment_wins() -> None:
    resolver = ApiKeyResolver(environ={"GROQ_API_KEY": " gsk-env "})
    assert resolver.resolve(KeySource("GROQ_API_KEY", parameter="/never/read")) == "gsk-env"


def test_ssm_parameter_is_read_decrypted_and_cached(boto: Any) -> None:
    boto("ssm").put_parameter(
        Name="/endurance/groq-key", Value="gsk-ssm-1", Type="SecureString", Overwrite=True
    )
    clock = Clock()
    resolver = ApiKeyResolver(environ={}, client_factory=boto, ttl_seconds=60, clock=clock)
    source = KeySource("GROQ_API_KEY", parameter="/endurance/groq-key")
    assert resolver.resolve(source) == "gsk-ssm-1"
    boto("ssm").put_parameter(
        Name="/endurance/groq-key", Value="gsk-ssm-2", Type="SecureString", Overwrite=True
    )
    clock.now = 59
    assert resolver.resolve(source) == "gsk-ssm-1"  # cached: no call per request
    clock.now = 61
    assert resolver.resolve(source) == "gsk-ssm-2"  # a rotated key is picked up after the TTL


def test_secrets_manager_plain_and_json(boto: Any) -> None:
    secrets = boto("secretsmanager")
    plain, as_json = f"endurance/plain-{uuid.uuid4().hex}", f"endurance/json-{uuid.uuid4().hex}"
    secrets.create_secret(Name=plain, SecretString="sk-plain")
    secrets.create_secret(Name=as_json, SecretString='{"api_key": "sk-json"}')
    resolver = ApiKeyResolver(environ={}, client_factory=boto)
    assert resolver.resolve(KeySource("OPENAI_API_KEY", secret=plain)) == "sk-plain"
    assert resolver.resolve(KeySource("OPENAI_API_KEY", secret=as_json)) == "sk-json"


def test_a_missing_parameter_is_a_permanent_error_naming_it(boto: Any) -> None:
    resolver = ApiKeyResolver(environ={}, client_factory=boto)
    with pytest.raises(PermanentError, match="/endurance/missing"):
        resolver.resolve(KeySource("GROQ_API_KEY", parameter="/endurance/missing"))


def test_no_source_configured() -> None:
    resolver = ApiKeyResolver(environ={})
    assert resolver.resolve(KeySource("GROQ_API_KEY")) is None
    with pytest.raises(ConfigurationError, match=r"no API key for groq: set \$GROQ_API_KEY"):
        resolver.require(KeySource("GROQ_API_KEY"), "groq")
