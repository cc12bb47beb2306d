"""Builds the adapters a handler needs from Settings, once per Lambda container.

Each builder imports its adapter module on first call, so a handler pays (in import time and memory)
only for what it uses. `reset()` forgets everything: tests change the environment between cases.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from endurance.config import Settings, get_settings

if TYPE_CHECKING:
    from endurance.adapters.aws.connections import ApiGatewayConnectionPusher
    from endurance.adapters.aws.dynamodb import (
        DynamoAuditRepository,
        DynamoConnectionRepository,
        DynamoDocumentRepository,
        DynamoFeedbackRepository,
        DynamoIdempotencyRepository,
        DynamoJobRepository,
        DynamoSessionRepository,
    )
    from endurance.adapters.aws.sns import SnsEventPublisher
    from endurance.adapters.aws.sqs import SqsJobQueue
    from endurance.adapters.aws.stepfunctions import StepFunctionsStarter


def settings() -> Settings:
    return get_settings()


@cache
def jobs() -> DynamoJobRepository:
    from endurance.adapters.aws.dynamodb import DynamoJobRepository

    settings().require("jobs_table")
    return DynamoJobRepository(settings().jobs_table)


@cache
def sessions() -> DynamoSessionRepository:
    from endurance.adapters.aws.dynamodb import DynamoSessionRepository

    settings().require("sessions_table")
    return DynamoSessionRepository(settings().sessions_table)


@cache
def feedback() -> DynamoFeedbackRepository:
    from endurance.adapters.aws.dynamodb import DynamoFeedbackRepository

    settings().require("feedback_table")
    return DynamoFeedbackRepository(settings().feedback_table)


@cache
def audit() -> DynamoAuditRepository:
    from endurance.adapters.aws.dynamodb import DynamoAuditRepository

    settings().require("audit_table")
    return DynamoAuditRepository(settings().audit_table)


@cache
def connections() -> DynamoConnectionRepository:
    from endurance.adapters.aws.dynamodb import DynamoConnectionRepository

    settings().require("connections_table")
    return DynamoConnectionRepository(settings().connections_table)


@cache
def idempotency() -> DynamoIdempotencyRepository:
    from endurance.adapters.aws.dynamodb import DynamoIdempotencyRepository

    settings().require("idempotency_table")
    return DynamoIdempotencyRepository(settings().idempotency_table)


@cache
def documents() -> DynamoDocumentRepository:
    from endurance.adapters.aws.dynamodb import DynamoDocumentRepository

    settings().require("documents_table")
    return DynamoDocumentRepository(settings().documents_table)


@cache
def publisher() -> SnsEventPublisher:
    from endurance.adapters.aws.sns import SnsEventPublisher

    settings().require("events_topic_arn")
    return SnsEventPublisher(settings().events_topic_arn)


@cache
def intake_queue() -> SqsJobQueue:
    from endurance.adapters.aws.sqs import SqsJobQueue

    settings().require("intake_queue_url")
    return SqsJobQueue(settings().intake_queue_url)


@cache
def starter() -> StepFunctionsStarter:
    from endurance.adapters.aws.stepfunctions import StepFunctionsStarter

    settings().require("state_machine_arn")
    return StepFunctionsStarter(settings().state_machine_arn)


@cache
def pusher() -> ApiGatewayConnectionPusher:
    from endurance.adapters.aws.connections import ApiGatewayConnectionPusher

    settings().require("websocket_management_url")
    return ApiGatewayConnectionPusher(settings().websocket_management_url)


def aws_client(service: str) -> Any:
    from endurance.adapters.aws.clients import client

    return client(service)


@cache
def embedder() -> Any:
    from endurance.providers import build_embedder

    return build_embedder(settings())


@cache
def vector_index() -> Any:
    from endurance.providers import build_vector_index

    return build_vector_index(settings())


@cache
def generator() -> Any:
    from endurance.providers import build_generator

    return build_generator(settings())


_BUILDERS = (
    jobs,
    sessions,
    feedback,
    audit,
    connections,
    idempotency,
    documents,
    publisher,
    intake_queue,
    starter,
    pusher,
    embedder,
    vector_index,
    generator,
)


def reset(*, clients: bool = True) -> None:
    """Forget settings and adapters, and unless told otherwise the boto3 clients (the next call rebuilds
    them from the environment). Tests that keep AWS_ENDPOINT_URL keep the clients: they are slow to build."""
    for builder in _BUILDERS:
        builder.cache_clear()
    get_settings.cache_clear()
    if clients:
        from endurance.adapters.aws.clients import reset_clients

        reset_clients()
