from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from endurance import providers
from endurance.adapters.offline.extractive_answerer import ExtractiveAnswerer
from endurance.adapters.offline.hashing_embedder import HashingEmbedder
from endurance.adapters.offline.local_index import LocalIndex
from endurance.adapters.offline.minilm_static_embedder import MiniLMStaticEmbedder
from endurance.config import Settings
from endurance.domain.errors import ConfigurationError


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    providers.clear_cache()
    yield
    providers.clear_cache()


def test_offline_defaults_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env({"LOCAL_RUNTIME_STATE_DIR": str(tmp_path)})
    embedder = providers.build_embedder(settings)
    index = providers.build_vector_index(settings)
    assert isinstance(embedder, MiniLMStaticEmbedder)
    assert isinstance(index, LocalIndex) and index.directory == (tmp_path / "index").resolve()
    assert isinstance(providers.build_generator(settings), ExtractiveAnswerer)


def test_hashing_is_one_setting_away(tmp_path: Path) -> None:
    settings = Settings.from_env({"EMBEDDER": "hashing", "LOCAL_RUNTIME_STATE_DIR": str(tmp_path)})
    assert isinstance(providers.build_embedder(settings), HashingEmbedder)


def test_built_once_per_process(tmp_path: Path) -> None:
    settings = Settings(local_index_dir=str(tmp_path))
    assert providers.build_vector_index(settings) is providers.build_vector_index(settings.model_copy())
    assert providers.build_embedder(settings) is providers.build_embedder(settings)
    other = Settings(local_index_dir=str(tmp_path / "other"))
    assert providers.build_vector_index(other) is not providers.build_vector_index(settings)


@pytest.mark.parametrize(
    ("variable", "value", "builder"),
    [
        ("LLM_PROVIDER", "groq", providers.build_generator),
    ],
)
def test_unavailable_providers_are_a_configuration_error(variable: str, value: str, builder: object) -> None:
    settings = Settings.from_env({variable: value})
    with pytest.raises(ConfigurationError, match=f"{variable}={value}"):
        builder(settings)  # type: ignore[operator]
