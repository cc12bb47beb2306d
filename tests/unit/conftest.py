"""Fixtures for the core tests that talk to AWS: a moto server, the tables/queues/topic, a management API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from endurance import bootstrap

from tests.unit.services.endurance_aws_stack import AwsStack, ManagementApiServer, aws_stack, moto_endpoint


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    yield from moto_endpoint()


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[AwsStack]:
    yield from aws_stack(moto_url, monkeypatch, tmp_path)


@pytest.fixture
def management(monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagementApiServer]:
    with ManagementApiServer() as server:
        monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", server.url)
        bootstrap.reset()
        yield server
