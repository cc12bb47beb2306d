"""The local API Gateway: HTTP API routes, WebSocket APIs and their @connections management endpoint."""

from endurance_local.apigateway.server import ApiServer, build_app

__all__ = ["ApiServer", "build_app"]
