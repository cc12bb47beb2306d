"""The OpenSearch adapter over real HTTP (opensearch-py, SigV4) against the loopback stand-in.

Real OpenSearch (Service or Serverless) is not reachable from here: the stand-in checks request bodies
and signatures against the documented API and executes the queries (see test_opensearch_standin.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.credentials import Credentials
from endurance.adapters.offline.hashing_embedder import HashingEmbedder
from endurance.adapters.opensearch.client import build_client
from endurance.adapters.opensearch.index import OpenSearchIndex
from endurance.domain.errors import ConfigurationError, PermanentError, TransientError
from endurance.ingestion.ingest import ingest_document, ingest_path

from tests.unit.adapters.test_opensearch_standin import ACCESS_KEY, REGION, SECRET_KEY, StandIn

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus"
EMBEDDER = HashingEmbedder()


@pytest.fixture(params=["es", "aoss"])
def standin(request: pytest.FixtureRequest) -> Iterator[StandIn]:
    server = StandIn(request.param)
    yield server
    server.close()


def _index(
    server: StandIn, *, fusion: str = "rrf", secret: str = SECRET_KEY, name: str = "chunks"
) -> OpenSearchIndex:
    client = build_client(
        server.url,
        auth=server.service,
        region=REGION,
        credentials=Credentials(ACCESS_KEY, secret),
        timeout_s=5,
    )
    return OpenSearchIndex(
        client,
        index=name,
        embedder_name=EMBEDDER.name,
        dimension=EMBEDDER.dimension,
        serverless=server.service == "aoss",
        fusion=fusion,
    )


def _search(index: OpenSearchIndex, question: str, **kwargs: object) -> list:
    return index.search(question, EMBEDDER.embed([question])[0], **kwargs)  # type: ignore[arg-type]


def test_creates_the_knn_index_ingests_and_searches(standin: StandIn) -> None:
    index = _index(standin)
    results = ingest_path(CORPUS, embedder=EMBEDDER, index=index)
    assert all(r.status == "INDEXED" for r in results) and len(results) == 10
    created = next(r for r in standin.requests if r["method"] == "PUT" and r["path"] == "/chunks")
    mapping = json.loads(created["body"])["mappings"]
    assert mapping["properties"]["embedding"] == {
        "type": "knn_vector",
        "dimension": 512,
        "method": {
            "name": "hnsw",
            "engine": "lucene",
            "space_type": "cosinesimil",
            "parameters": {"m": 16, "ef_construction": 128},
        },
    }
    assert mapping["_meta"] == {"embedder": "hashing-v1", "dimension": 512}
    assert index.count() == sum(r.chunks for r in results)
    assert index.documents() == sorted(p.name for p in CORPUS.glob("*.md"))

    hits = _search(index, "How quickly must the SOC acknowledge a SEV-1 incident?", k=3)
    assert hits[0].doc == "Incident_Response_Runbook.md"
    assert "2. Severity Levels > 2.2 Acknowledgement and Update Times" in {h.section for h in hits}
    assert hits[0].score >= hits[1].score >= hits[2].score > 0
    assert {"knn", "bm25"} <= set(hits[0].metadata)
    searches = [json.loads(r["body"]) for r in standin.requests if r["path"] == "/chunks/_search"]
    queries = [s.get("query", {}) for s in searches]
    assert any("knn" in q for q in queries) and any("multi_match" in q for q in queries)
    bulk_headers = [
        json.loads(line)
        for r in standin.requests
        if r["path"] == "/_bulk"
        for line in r["body"].splitlines()
        if line.startswith('{"index"')
    ]
    assert bulk_headers and all(("_id" in h["index"]) == (standin.service == "es") for h in bulk_headers)
    assert all(r["status"] != 403 for r in standin.requests), "every request carried a valid SigV4 signature"


def test_filters_reach_the_knn_and_lexical_queries(standin: StandIn) -> None:
    index = _index(standin)
    ingest_path(CORPUS, embedder=EMBEDDER, index=index)
    hits = _search(index, "retention period", k=5, filters={"doc": "Data_Protection_Policy.md"})
    assert hits and {h.doc for h in hits} == {"Data_Protection_Policy.md"}
    by_section = _search(index, "severity", k=5, filters={"section": "2. Severity Levels"})
    assert by_section and all(h.section.startswith("2. Severity Levels") for h in by_section)
    knn = [json.loads(r["body"]) for r in standin.requests if '"knn"' in r["body"]][-1]
    assert knn["query"]["knn"]["embedding"]["filter"] == {
        "bool": {"filter": [{"prefix": {"section.raw": "2. Severity Levels"}}]}
    }


def test_replacing_and_deleting_a_document(standin: StandIn) -> None:
    index = _index(standin)
    ingest_document(
        "a.md", b"# A\n\n## One\n\nThe first version of the text.\n", embedder=EMBEDDER, index=index
    )
    ingest_document(
        "b.md", b"# B\n\n## Other\n\nAnother document entirely.\n", embedder=EMBEDDER, index=index
    )
    ingest_document(
        "a.md", b"# A\n\n## One\n\nThe second version, rewritten.\n", embedder=EMBEDDER, index=index
    )
    texts = {h.text for h in _search(index, "version", k=10, filters={"doc": "a.md"})}
    assert texts == {"The second version, rewritten."}
    again = ingest_document(
        "a.md", b"# A\n\n## One\n\nThe second version, rewritten.\n", embedder=EMBEDDER, index=index
    )
    assert again.status == "INDEXED" and index.count() == 2, "re-ingesting the same text is idempotent"
    assert index.delete_document("a.md") == 1
    assert index.documents() == ["b.md"] and index.count() == 1


def test_hybrid_query_with_a_normalization_pipeline() -> None:
    server = StandIn("es")
    try:
        index = _index(server, fusion="hybrid")
        ingest_path(CORPUS, embedder=EMBEDDER, index=index)
        hits = _search(index, "How quickly must the SOC acknowledge a SEV-1 incident?", k=3)
        assert hits[0].doc == "Incident_Response_Runbook.md"
        pipeline = next(r for r in server.requests if r["path"] == "/_search/pipeline/endurance-hybrid")
        processor = json.loads(pipeline["body"])["phase_results_processors"][0]["normalization-processor"]
        assert processor["normalization"] == {"technique": "min_max"}
        hybrid = next(r for r in server.requests if '"hybrid"' in r["body"])
        assert hybrid["query"] == "search_pipeline=endurance-hybrid"
    finally:
        server.close()


def test_an_index_of_another_embedder_is_a_clear_error(standin: StandIn) -> None:
    _index(standin).ensure_index()
    client = build_client(
        standin.url, auth=standin.service, region=REGION, credentials=Credentials(ACCESS_KEY, SECRET_KEY)
    )
    other = OpenSearchIndex(
        client,
        index="chunks",
        embedder_name="openai:text-embedding-3-small",
        dimension=1536,
        serverless=standin.service == "aoss",
    )
    with pytest.raises(ConfigurationError, match="built with embedder 'hashing-v1' \\(512 dimensions\\)"):
        other.count()
    with pytest.raises(ConfigurationError, match="dimensions"):
        _index(standin).search("q", [0.0] * 3)


def test_http_errors_become_core_errors(standin: StandIn) -> None:
    index = _index(standin)
    index.ensure_index()
    standin.fail_next = [429]
    with pytest.raises(TransientError, match="429"):
        index.count()
    standin.fail_next = [503, 503, 503]
    with pytest.raises(TransientError):
        index.count()
    standin.fail_next = [400]
    with pytest.raises(PermanentError, match="400"):
        index.count()
    with pytest.raises(ConfigurationError, match="403"):
        _index(standin, secret="not-the-secret", name="other").count()


def test_an_unreachable_endpoint_is_transient() -> None:
    server = StandIn("es")
    url = server.url
    server.close()
    client = build_client(
        url, auth="es", region=REGION, credentials=Credentials(ACCESS_KEY, SECRET_KEY), timeout_s=1
    )
    index = OpenSearchIndex(client, index="chunks", embedder_name="x", dimension=4)
    with pytest.raises(TransientError, match="cannot reach OpenSearch"):
        index.count()


def test_client_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="OPENSEARCH_AUTH"):
        build_client("https://search.example.com", auth="basic")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(ConfigurationError, match="region"):
        build_client("https://search.example.com", auth="aoss", credentials=Credentials("a", "b"))


def test_the_providers_factory_builds_a_signed_opensearch_index(monkeypatch: pytest.MonkeyPatch) -> None:
    from endurance.config import Settings
    from endurance.providers import build_vector_index, clear_cache

    server = StandIn("aoss")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    clear_cache()
    try:
        settings = Settings.from_env(
            {
                "VECTOR_STORE": "opensearch",
                "OPENSEARCH_ENDPOINT": server.url,
                "OPENSEARCH_AUTH": "aoss",
                "OPENSEARCH_REGION": REGION,
                "OPENSEARCH_INDEX": "from-settings",
            }
        )
        index = build_vector_index(settings)
        assert index.count() == 0
        assert any(r["method"] == "PUT" and r["path"] == "/from-settings" for r in server.requests)
        with pytest.raises(ConfigurationError, match="OPENSEARCH_ENDPOINT"):
            build_vector_index(Settings(vector_store="opensearch"))
    finally:
        clear_cache()
        server.close()


def test_auth_and_region_come_from_an_aws_endpoint() -> None:
    from endurance.adapters.opensearch.client import region_of, resolve_auth

    serverless = "https://abc123xyz.eu-central-1.aoss.amazonaws.com"
    managed = "https://search-docs-x1y2z3.us-west-2.es.amazonaws.com"
    assert (resolve_auth(serverless, "auto"), region_of(serverless)) == ("aoss", "eu-central-1")
    assert (resolve_auth(managed, "auto"), region_of(managed)) == ("es", "us-west-2")
    assert resolve_auth(managed, "aoss") == "aoss" and region_of("http://127.0.0.1:9200") == ""
