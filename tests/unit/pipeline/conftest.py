"""Fixtures for the pipeline tests: the shared dev set and an index of the sample corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from endurance.adapters.offline.hashing_embedder import HashingEmbedder
from endurance.adapters.offline.local_index import LocalIndex
from endurance.config import Settings
from endurance.ingestion.ingest import ingest_path
from endurance.ports.providers import Embedder
from endurance.providers import build_embedder

SHARED = Path(__file__).resolve().parents[4] / "shared"


@pytest.fixture(scope="session")
def dev_questions() -> list[dict[str, Any]]:
    lines = (SHARED / "eval" / "questions_dev.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="session")
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory, embedder: HashingEmbedder) -> LocalIndex:
    index = LocalIndex(
        tmp_path_factory.mktemp("index"), embedder_name=embedder.name, dimension=embedder.dimension
    )
    results = ingest_path(SHARED / "corpus", embedder=embedder, index=index)
    assert all(result.status == "INDEXED" for result in results)
    return index


@pytest.fixture(scope="session")
def default_embedder() -> Embedder:
    """The local default (EMBEDDER=minilm-static; `make install` provides the weights and table)."""
    return build_embedder(Settings())


@pytest.fixture(scope="session")
def default_corpus_index(tmp_path_factory: pytest.TempPathFactory, default_embedder: Embedder) -> LocalIndex:
    index = LocalIndex(
        tmp_path_factory.mktemp("index"),
        embedder_name=default_embedder.name,
        dimension=default_embedder.dimension,
    )
    results = ingest_path(SHARED / "corpus", embedder=default_embedder, index=index)
    assert all(result.status == "INDEXED" for result in results)
    return index
