"""Chat state machine step: retrieve chunks for a rag question (adds `retrieval` to the state)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from endurance import bootstrap
from endurance.domain.models import Chunk
from endurance.pipeline.retrieve import retrieve
from endurance.services.steps import retrieve_step

logger = Logger()


def _retrieve(question: str) -> list[Chunk]:
    return retrieve(
        question,
        embedder=bootstrap.embedder(),
        index=bootstrap.vector_index(),
        k=bootstrap.settings().retrieve_k,
    )


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return retrieve_step(event, retrieve=_retrieve, jobs=bootstrap.jobs(), publisher=bootstrap.publisher())
