"""Build the model-side providers from Settings, once per process (a warm Lambda container reuses them).

Adapters are imported inside the builders so a handler pays only for the provider it uses at cold start.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from endurance.config import Settings
from endurance.domain.errors import ConfigurationError
from endurance.ports.providers import AnswerGenerator, Embedder, VectorIndex


def build_embedder(settings: Settings) -> Embedder:
    return _embedder(settings.embedder)


def build_vector_index(settings: Settings) -> VectorIndex:
    embedder = build_embedder(settings)
    if settings.vector_store == "local":
        return _local_index(str(settings.index_dir().resolve()), embedder.name, embedder.dimension)
    raise ConfigurationError(
        f"VECTOR_STORE={settings.vector_store} is not available in this build; use VECTOR_STORE=local"
    )


def build_generator(settings: Settings) -> AnswerGenerator:
    return _generator(settings.llm_provider)


@lru_cache(maxsize=4)
def _embedder(kind: str) -> Embedder:
    if kind == "hashing":
        from endurance.adapters.offline.hashing_embedder import HashingEmbedder

        return HashingEmbedder()
    raise ConfigurationError(f"EMBEDDER={kind} is not available in this build; use EMBEDDER=hashing")


@lru_cache(maxsize=8)
def _local_index(directory: str, embedder_name: str, dimension: int) -> VectorIndex:
    from endurance.adapters.offline.local_index import LocalIndex

    return LocalIndex(Path(directory), embedder_name=embedder_name, dimension=dimension)


@lru_cache(maxsize=4)
def _generator(kind: str) -> AnswerGenerator:
    if kind == "offline":
        from endurance.adapters.offline.extractive_answerer import ExtractiveAnswerer

        return ExtractiveAnswerer()
    raise ConfigurationError(f"LLM_PROVIDER={kind} is not available in this build; use LLM_PROVIDER=offline")


def clear_cache() -> None:
    """Forget built providers (tests; a process whose settings changed)."""
    for cached in (_embedder, _local_index, _generator):
        cached.cache_clear()
