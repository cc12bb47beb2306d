"""ApiGatewayConnectionPusher over real HTTP to a loopback @connections endpoint (200 and 410 Gone)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from endurance.adapters.aws.clients import reset_clients
from endurance.adapters.aws.connections import ApiGatewayConnectionPusher
from endurance.domain.errors import PermanentError
from endurance.ports.storage import ConnectionGone

from tests.unit.services.endurance_aws_stack import ManagementApiServer


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagementApiServer]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # Points elsewhere on purpose: the explicit management URL must win over the global endpoint.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    reset_clients()
    with ManagementApiServer(stage="prod") as server:
        yield server
    reset_clients()


def test_push_posts_the_json_message(endpoint: ManagementApiServer) -> None:
    pusher = ApiGatewayConnectionPusher(endpoint.url)
    pusher.push("abc=", {"type": "progress", "step": "classify"})
    assert endpoint.received == [("abc=", {"type": "progress", "step": "classify"})]


def test_gone_connection_raises_connection_gone(endpoint: ManagementApiServer) -> None:
    endpoint.gone.add("left")
    with pytest.raises(ConnectionGone) as raised:
        ApiGatewayConnectionPusher(endpoint.url).push("left", {"type": "result"})
    assert raised.value.connection_id == "left"


def test_other_client_errors_are_permanent(endpoint: ManagementApiServer) -> None:
    wrong_stage = endpoint.url.replace("/prod", "/other")
    with pytest.raises(PermanentError, match="NotFoundException"):
        ApiGatewayConnectionPusher(wrong_stage).push("c", {"type": "result"})
