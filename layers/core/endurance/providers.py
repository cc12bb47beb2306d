"""Build the model-side providers from Settings, once per process (a warm Lambda container reuses them).

Adapters are imported inside the builders so a handler pays only for the provider it uses at cold start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from endurance.config import Settings
from endurance.domain.errors import ConfigurationError
from endurance.domain.models import Classification
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
    """The extractive generator offline; otherwise LLM_PROVIDER then LLM_FALLBACKS as a failover chain."""
    return _generator(settings.model_dump_json())


def build_classifier(settings: Settings) -> Callable[[str], Classification]:
    """The offline rules, or (CLASSIFIER=llm with an LLM provider) the LLM backed by the rules."""
    return _classifier(settings.model_dump_json())


def build_condenser(settings: Settings) -> Callable[[str, Sequence[tuple[str, str]]], str]:
    """Follow-up rewriting: the deterministic rule offline, the condense prompt with an LLM provider."""
    return _condenser(settings.model_dump_json())


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
def _generator(settings_json: str) -> AnswerGenerator:
    from endurance.adapters.offline.extractive_answerer import ExtractiveAnswerer

    settings = Settings.model_validate_json(settings_json)
    if settings.llm_provider == "offline":
        return ExtractiveAnswerer()
    from endurance.adapters.llm.fallback import FallbackGenerator
    from endurance.adapters.llm.generator import LlmAnswerGenerator
    from endurance.adapters.llm.pricing import parse_price_override

    try:
        price = parse_price_override(settings.llm_price_per_mtok)
    except ValueError as error:
        raise ConfigurationError(f"LLM_PRICE_PER_MTOK: {error}") from error
    generators: list[AnswerGenerator] = []
    for provider in settings.llm_chain():
        if provider == "offline":
            generators.append(ExtractiveAnswerer())
            break  # the offline generator always answers: nothing after it would ever run
        generators.append(LlmAnswerGenerator(_chat(provider, settings_json), price_override=price))
    return generators[0] if len(generators) == 1 else FallbackGenerator(generators)


@lru_cache(maxsize=4)
def _classifier(settings_json: str) -> Callable[[str], Classification]:
    from endurance.pipeline.classify import classify

    settings = Settings.model_validate_json(settings_json)
    if settings.classifier == "rules" or settings.llm_provider == "offline":
        return classify
    from endurance.adapters.llm.classifier import LlmClassifier

    return LlmClassifier(_chat(settings.llm_provider, settings_json), offline=classify)


@lru_cache(maxsize=4)
def _condenser(settings_json: str) -> Callable[[str, Sequence[tuple[str, str]]], str]:
    from endurance.services.conversation import rewrite_follow_up

    settings = Settings.model_validate_json(settings_json)
    if settings.llm_provider == "offline":
        return rewrite_follow_up
    from endurance.adapters.llm.condenser import LlmCondenser

    return LlmCondenser(_chat(settings.llm_provider, settings_json), offline=rewrite_follow_up)


@lru_cache(maxsize=8)
def _chat(provider: str, settings_json: str) -> Any:
    """One resilient chat model per provider and configuration: its circuit breaker is shared."""
    from endurance.adapters.llm.factory import build_chat

    return build_chat(provider, Settings.model_validate_json(settings_json))


def clear_cache() -> None:
    """Forget built providers (tests; a process whose settings changed)."""
    for cached in (_embedder, _local_index, _generator, _classifier, _condenser, _chat):
        cached.cache_clear()
