"""WebSocket API: $connect, $disconnect, `subscribe` {"action": "subscribe", "job_id"} and $default.

Replies go through the management API (the ConnectionPusher) like every other message, because a
WebSocket route's return value only reaches the client for routes with a route response configured.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from endurance import bootstrap
from endurance.services import notifications

logger = Logger()

_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_OK = {"statusCode": 200}


def _reply_error(connection_id: str, code: str, message: str) -> dict[str, Any]:
    notifications.push(
        connection_id,
        notifications.error_message(code, message),
        connections=bootstrap.connections(),
        pusher=bootstrap.pusher(),
    )
    return _OK


def _on_message(connection_id: str, body: str | None) -> dict[str, Any]:
    try:
        message = json.loads(body or "")
    except json.JSONDecodeError:
        return _reply_error(connection_id, "invalid_json", "messages must be JSON objects")
    if not isinstance(message, dict):
        return _reply_error(connection_id, "invalid_json", "messages must be JSON objects")
    action = message.get("action")
    if action != "subscribe":
        return _reply_error(
            connection_id, "unknown_action", f"unknown action {str(action)[:40]!r}; try 'subscribe'"
        )
    job_id = message.get("job_id")
    if not isinstance(job_id, str) or not _JOB_ID.match(job_id):
        return _reply_error(connection_id, "invalid_request", "subscribe needs a valid job_id")
    notifications.subscribe(
        connection_id,
        job_id,
        jobs=bootstrap.jobs(),
        connections=bootstrap.connections(),
        pusher=bootstrap.pusher(),
        ttl_hours=bootstrap.settings().connection_ttl_hours,
    )
    logger.info("subscribed", connection_id=connection_id, job_id=job_id)
    return _OK


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = event.get("requestContext") or {}
    route = request.get("routeKey", "$default")
    connection_id = request["connectionId"]
    if route == "$connect":
        notifications.connect(
            connection_id,
            connections=bootstrap.connections(),
            ttl_hours=bootstrap.settings().connection_ttl_hours,
        )
        logger.info("connected", connection_id=connection_id)
        return _OK
    if route == "$disconnect":
        notifications.disconnect(connection_id, connections=bootstrap.connections())
        logger.info("disconnected", connection_id=connection_id)
        return _OK
    return _on_message(connection_id, event.get("body"))
