"""Request bodies for OpenSearch, as its documentation defines them (pure functions, no I/O).

Engine: HNSW on the ``lucene`` engine with ``cosinesimil``. Lucene is the engine that supports cosine and
efficient filtering (the ``filter`` inside the ``knn`` clause is applied during the graph search, so a
filtered query still returns k hits) on both OpenSearch Service and Serverless; nmslib is deprecated, and
faiss only gained cosine in 2.19. Vectors are unit length, so cosine = inner product either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

HYBRID_PIPELINE = "endurance-hybrid"
# Weights of the hybrid query's sub-queries, in order (lexical, k-NN).
HYBRID_WEIGHTS = (0.3, 0.7)


def index_body(dimension: int, embedder: str, *, serverless: bool) -> dict[str, Any]:
    settings: dict[str, Any] = {"index": {"knn": True}}
    if not serverless:  # Serverless manages shards and replicas itself and rejects these settings
        settings["index"].update({"number_of_shards": 1, "number_of_replicas": 1})
    return {
        "settings": settings,
        "mappings": {
            # One index per embedding model and dimension: checked on every start (see OpenSearchIndex).
            "_meta": {"embedder": embedder, "dimension": dimension},
            "dynamic_templates": [
                {
                    "metadata_strings": {
                        "path_match": "metadata.*",
                        "match_mapping_type": "string",
                        "mapping": {"type": "keyword"},
                    }
                }
            ],
            "properties": {
                "chunk_id": {"type": "keyword"},
                "doc": {"type": "keyword"},
                "section": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
                "text": {"type": "text"},
                "metadata": {"type": "object"},
                "embedding": {
                    "type": "knn_vector",
                    "dimension": dimension,
                    "method": {
                        "name": "hnsw",
                        "engine": "lucene",
                        "space_type": "cosinesimil",
                        "parameters": {"m": 16, "ef_construction": 128},
                    },
                },
            },
        },
    }


def hybrid_pipeline_body() -> dict[str, Any]:
    return {
        "description": "Endurance hybrid search: min-max normalised BM25 and k-NN scores, weighted mean",
        "phase_results_processors": [
            {
                "normalization-processor": {
                    "normalization": {"technique": "min_max"},
                    "combination": {
                        "technique": "arithmetic_mean",
                        "parameters": {"weights": list(HYBRID_WEIGHTS)},
                    },
                }
            }
        ],
    }


def filter_clauses(filters: Mapping[str, str] | None) -> list[dict[str, Any]]:
    """``doc`` exact, ``section`` prefix of the heading path, any other key exact on ``metadata``."""
    clauses: list[dict[str, Any]] = []
    for key, value in (filters or {}).items():
        if key == "doc":
            clauses.append({"term": {"doc": value}})
        elif key == "section":
            clauses.append({"prefix": {"section.raw": value}})
        else:
            clauses.append({"term": {f"metadata.{key}": value}})
    return clauses


def knn_clause(vector: Sequence[float], k: int, filters: Mapping[str, str] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"vector": [float(v) for v in vector], "k": k}
    clauses = filter_clauses(filters)
    if clauses:
        body["filter"] = {"bool": {"filter": clauses}}
    return {"knn": {"embedding": body}}


def lexical_clause(query: str, filters: Mapping[str, str] | None) -> dict[str, Any]:
    match = {"multi_match": {"query": query, "fields": ["text", "section"]}}
    clauses = filter_clauses(filters)
    return {"bool": {"must": [match], "filter": clauses}} if clauses else match


def search_body(query: dict[str, Any], size: int) -> dict[str, Any]:
    return {"size": size, "query": query, "_source": {"excludes": ["embedding"]}}


def hybrid_body(
    query: str, vector: Sequence[float], size: int, filters: Mapping[str, str] | None
) -> dict[str, Any]:
    return search_body(
        {"hybrid": {"queries": [lexical_clause(query, filters), knn_clause(vector, size, filters)]}}, size
    )


def ids_of_body(field: str, values: Sequence[str], size: int) -> dict[str, Any]:
    return {"size": size, "query": {"terms": {field: list(values)}}, "_source": ["chunk_id", "doc"]}


def documents_body(size: int) -> dict[str, Any]:
    return {"size": 0, "aggs": {"docs": {"terms": {"field": "doc", "size": size}}}}
