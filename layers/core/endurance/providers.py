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
    """EMBEDDER: ``hashing`` (pure Python), ``minilm`` (numpy, local weights), ``minilm-static`` (documents
    by the distilled token table, queries by the full model) or ``openai``."""
    return _embedder(
        settings.embedder,
        settings.embedding_model,
        settings.embedding_dimension,
        settings.embedding_base_url,
        settings.minilm_model_dir,
        settings.minilm_cache_dir,
        settings.openai_api_key_parameter,
        settings.openai_api_key_secret,
    )


def build_vector_index(settings: Settings) -> VectorIndex:
    """One index per embedder name and dimension: both are checked against what the index was built with."""
    embedder = build_embedder(settings)
    if settings.vector_store == "local":
        return _local_index(str(settings.index_dir().resolve()), embedder.name, embedder.dimension)
    if not settings.opensearch_endpoint:
        raise ConfigurationError("VECTOR_STORE=opensearch needs OPENSEARCH_ENDPOINT")
    return _opensearch_index(
        settings.opensearch_endpoint,
        settings.opensearch_index,
        settings.opensearch_auth,
        settings.opensearch_region,
        settings.opensearch_fusion,
        embedder.name,
        embedder.dimension,
    )


@lru_cache(maxsize=4)
def _opensearch_index(
    endpoint: str, index: str, auth: str, region: str, fusion: str, embedder_name: str, dimension: int
) -> VectorIndex:
    from endurance.adapters.opensearch.client import build_client, resolve_auth
    from endurance.adapters.opensearch.index import OpenSearchIndex

    auth = resolve_auth(endpoint, auth)
    return OpenSearchIndex(
        build_client(endpoint, auth=auth, region=region),
        index=index,
        embedder_name=embedder_name,
        dimension=dimension,
        serverless=auth == "aoss",
        fusion=fusion,
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
def _embedder(
    kind: str,
    model: str,
    dimension: int | None,
    base_url: str,
    minilm_dir: str,
    minilm_cache_dir: str,
    key_parameter: str,
    key_secret: str,
) -> Embedder:
    if kind == "hashing":
        from endurance.adapters.offline.hashing_embedder import HashingEmbedder

        return HashingEmbedder()
    if kind == "minilm":
        from endurance.adapters.offline.minilm_embedder import MiniLMEmbedder

        return MiniLMEmbedder(minilm_dir or None)
    if kind == "minilm-static":
        from endurance.adapters.offline.minilm_static_embedder import MiniLMStaticEmbedder

        return MiniLMStaticEmbedder(minilm_dir or None, minilm_cache_dir or None)
    if kind == "openai":
        from endurance.adapters.llm.api_keys import ApiKeyResolver, KeySource
        from endurance.adapters.openai_embeddings import OpenAIEmbedder

        source = KeySource("OPENAI_API_KEY", key_parameter, key_secret)
        resolver = ApiKeyResolver()
        return OpenAIEmbedder(
            api_key=lambda: resolver.require(source, "OpenAI embeddings"),
            model=model,
            dimension=dimension,
            base_url=base_url or None,
        )
    raise ConfigurationError(f"EMBEDDER={kind}: use hashing, minilm, minilm-static or openai")


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
    for cached in (_embedder, _local_index, _opensearch_index, _generator, _classifier, _condenser, _chat):
        cached.cache_clear()
