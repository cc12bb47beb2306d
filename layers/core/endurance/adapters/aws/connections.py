"""Pushes messages to WebSocket clients through the API Gateway management API (`@connections`).

The endpoint is the stage URL (`https://{domain}/{stage}`, Settings.websocket_management_url), given
explicitly so it wins over AWS_ENDPOINT_URL: locally it is the runtime's own API Gateway emulation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from endurance.adapters.aws.clients import aws_errors, client, error_code
from endurance.ports.storage import ConnectionGone


class ApiGatewayConnectionPusher:
    def __init__(self, endpoint_url: str, management: Any | None = None) -> None:
        if not endpoint_url:
            raise ValueError("the WebSocket management URL is required")
        self.endpoint_url = endpoint_url.rstrip("/")
        self._client = management

    @property
    def management(self) -> Any:
        if self._client is None:
            self._client = client("apigatewaymanagementapi", self.endpoint_url)
        return self._client

    def push(self, connection_id: str, message: Mapping[str, Any]) -> None:
        from botocore.exceptions import ClientError

        data = json.dumps(message, separators=(",", ":")).encode()
        with aws_errors("apigatewaymanagementapi.PostToConnection"):
            try:
                self.management.post_to_connection(ConnectionId=connection_id, Data=data)
            except ClientError as error:
                if error_code(error) == "GoneException":
                    raise ConnectionGone(connection_id) from error
                raise
