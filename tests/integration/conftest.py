"""The whole Endurance stack, started once per test session on free loopback ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from endurance_cli.config_files import samconfig_overrides
from endurance_local.runtime import LocalStack, LocalStackConfig

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningStack:
    stack: LocalStack
    state_dir: Path

    @property
    def api_url(self) -> str:
        return self.stack.api_url

    @property
    def aws_url(self) -> str:
        return self.stack.aws_url

    @property
    def ws_url(self) -> str:
        urls = self.stack.urls()
        return next(url for name, url in urls.items() if name.startswith("websocket:"))

    def name(self, logical_id: str) -> str:
        assert self.stack.deployment is not None
        resource = self.stack.deployment.resources[logical_id]
        return resource.physical_name or ""

    def queue_url(self, logical_id: str) -> str:
        assert self.stack.deployment is not None
        return self.stack.deployment.resources[logical_id].url or ""

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.aws_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )


# Package scope: the stack (and moto, which is process-wide) is gone before other suites run.
@pytest.fixture(scope="package")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    from endurance.config import Settings
    from endurance.ingestion.ingest import ingest_path
    from endurance.providers import build_embedder, build_vector_index

    state_dir = tmp_path_factory.mktemp("stack-state")
    settings = Settings(vector_store="local", local_runtime_state_dir=str(state_dir))
    ingest_path(
        ROOT / "samples" / "documents",
        embedder=build_embedder(settings),
        index=build_vector_index(settings),
    )
    template = ROOT / "template.yaml"
    overrides = samconfig_overrides(template) | {"FaultInjection": "1", "QueueVisibilityTimeout": "2"}
    config = LocalStackConfig(
        template=template,
        api_port=free_port(),
        aws_port=free_port(),
        state_dir=state_dir,
        parameter_overrides=overrides,
        echo_function_logs=bool(os.environ.get("ENDURANCE_TEST_ECHO_LOGS")),
    )
    stack = LocalStack(config)
    stack.start()
    try:
        yield RunningStack(stack=stack, state_dir=state_dir)
    finally:
        stack.stop()
