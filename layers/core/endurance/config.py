"""One typed settings object, read from the environment (names in docs/architecture.md)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from endurance.domain.errors import ConfigurationError


class Settings(BaseModel):
    jobs_table: str = ""
    sessions_table: str = ""
    feedback_table: str = ""
    audit_table: str = ""
    connections_table: str = ""
    idempotency_table: str = ""
    documents_table: str = ""
    intake_queue_url: str = ""
    failed_jobs_queue_url: str = ""
    events_topic_arn: str = ""
    state_machine_arn: str = ""
    websocket_url: str = ""
    websocket_management_url: str = ""
    documents_bucket: str = ""

    vector_store: Literal["local", "opensearch"] = "local"
    local_index_dir: str = ""
    local_runtime_state_dir: str = ""
    opensearch_endpoint: str = ""
    opensearch_index: str = "endurance-chunks"
    embedder: Literal["hashing", "openai"] = "hashing"
    llm_provider: Literal["offline", "groq", "openai"] = "offline"
    retrieve_k: int = Field(default=5, ge=1, le=50)
    audit_ttl_days: int = 90
    connection_ttl_hours: int = 2
    idempotency_ttl_hours: int = 24

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values = {name: env[name.upper()] for name in cls.model_fields if name.upper() in env}
        try:
            return cls.model_validate(values)
        except ValueError as error:
            raise ConfigurationError(f"invalid settings in the environment: {error}") from error

    def index_dir(self) -> Path:
        """Where the on-disk vector index lives (VECTOR_STORE=local)."""
        if self.local_index_dir:
            return Path(self.local_index_dir)
        if self.local_runtime_state_dir:
            return Path(self.local_runtime_state_dir) / "index"
        return Path(".endurance") / "index"

    def require(self, *names: str) -> None:
        missing = [name.upper() for name in names if not getattr(self, name)]
        if missing:
            raise ConfigurationError(f"missing environment variable(s): {', '.join(missing)}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this Lambda container (cached: the environment does not change while it is warm)."""
    return Settings.from_env()
