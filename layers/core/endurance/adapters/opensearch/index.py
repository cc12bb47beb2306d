"""``VectorIndex`` on OpenSearch: k-NN (HNSW, cosine) + BM25, fused by RRF or by a hybrid query.

Writes go through ``_bulk``. Serverless vector collections do not accept custom document ids, so chunks
are found by their ``chunk_id`` field, not by ``_id``: replacing a document indexes its new chunks first,
then deletes the old ones by the ``_id``s a search returned, so readers never see it missing (they may
briefly see both versions; Serverless is eventually consistent anyway, ~seconds). On OpenSearch Service
``_id`` = ``chunk_id`` keeps re-ingesting idempotent, and writes ``refresh`` so a test reads its writes.

Errors: 429 / 5xx / timeouts / connection errors raise ``TransientError`` (Step Functions retries it);
other 4xx raise ``PermanentError``; an index built for another embedder raises ``ConfigurationError``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from endurance.adapters.opensearch import queries
from endurance.domain.errors import ConfigurationError, PermanentError, TransientError
from endurance.domain.models import Chunk

RRF_K = 60
_BULK_BATCH = 200
_MAX_IDS = 10_000  # OpenSearch's default index.max_result_window


class OpenSearchIndex:
    def __init__(
        self,
        client: Any,
        *,
        index: str,
        embedder_name: str,
        dimension: int,
        serverless: bool = False,
        fusion: str = "rrf",
    ) -> None:
        if fusion not in ("rrf", "hybrid"):
            raise ConfigurationError(f"OPENSEARCH_FUSION={fusion}: use rrf or hybrid")
        self.client = client
        self.index = index
        self.embedder_name = embedder_name
        self.dimension = dimension
        self.serverless = serverless
        self.fusion = fusion
        self._ready = False
        self._lock = threading.Lock()

    # -- setup -----------------------------------------------------------------------------------------

    def ensure_index(self) -> None:
        """Create the index (and the hybrid pipeline) if missing; check its embedder and dimension."""
        with self._lock:
            if self._ready:
                return
            with _errors(f"checking index {self.index}"):
                exists = self.client.indices.exists(index=self.index)
                if not exists:
                    body = queries.index_body(self.dimension, self.embedder_name, serverless=self.serverless)
                    self.client.indices.create(index=self.index, body=body)
                else:
                    self._check_mapping(self.client.indices.get_mapping(index=self.index))
                if self.fusion == "hybrid":
                    self.client.transport.perform_request(
                        "PUT",
                        f"/_search/pipeline/{queries.HYBRID_PIPELINE}",
                        body=queries.hybrid_pipeline_body(),
                    )
            self._ready = True

    def _check_mapping(self, reply: Mapping[str, Any]) -> None:
        mappings = next(iter(reply.values()), {}).get("mappings", {}) if reply else {}
        meta = mappings.get("_meta", {})
        field = mappings.get("properties", {}).get("embedding", {})
        dimension = field.get("dimension")
        embedder = meta.get("embedder")
        if dimension != self.dimension or (embedder is not None and embedder != self.embedder_name):
            raise ConfigurationError(
                f"OpenSearch index {self.index} was built with embedder {embedder!r} "
                f"({dimension} dimensions), "
                f"but {self.embedder_name!r} ({self.dimension} dimensions) is configured: use another "
                "OPENSEARCH_INDEX or re-ingest into a new index"
            )

    # -- reads -----------------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        vector: Sequence[float],
        *,
        k: int = 5,
        filters: Mapping[str, str] | None = None,
    ) -> list[Chunk]:
        if len(vector) != self.dimension:
            raise ConfigurationError(
                f"query vector has {len(vector)} dimensions, the index expects {self.dimension}"
            )
        if k <= 0:
            return []
        self.ensure_index()
        depth = max(50, 10 * k)
        if self.fusion == "hybrid":
            body = queries.hybrid_body(query, vector, depth, filters)
            hits = self._search(body, params={"search_pipeline": queries.HYBRID_PIPELINE})
            return [_chunk(hit, float(hit.get("_score") or 0.0), {}) for hit in hits[:k]]
        dense = self._search(queries.search_body(queries.knn_clause(vector, depth, filters), depth))
        lexical = self._search(queries.search_body(queries.lexical_clause(query, filters), depth))
        fused: dict[str, float] = {}
        sources: dict[str, dict[str, Any]] = {}
        raw: dict[str, dict[str, float]] = {}
        for name, hits in (("knn", dense), ("bm25", lexical)):
            for rank, hit in enumerate(hits):
                cid = hit["_source"]["chunk_id"]
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
                sources.setdefault(cid, hit)
                raw.setdefault(cid, {})[name] = round(float(hit.get("_score") or 0.0), 6)
        best = sorted(fused, key=lambda cid: (-fused[cid], cid))[:k]
        return [_chunk(sources[cid], fused[cid], raw[cid]) for cid in best]

    def count(self) -> int:
        self.ensure_index()
        with _errors(f"counting {self.index}"):
            return int(self.client.count(index=self.index)["count"])

    def documents(self) -> list[str]:
        self.ensure_index()
        with _errors(f"listing documents of {self.index}"):
            reply = self.client.search(index=self.index, body=queries.documents_body(_MAX_IDS))
        return sorted(bucket["key"] for bucket in reply["aggregations"]["docs"]["buckets"])

    # -- writes ----------------------------------------------------------------------------------------

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        self._check_vectors(chunks, vectors)
        self.ensure_index()
        stale = [] if not self.serverless else self._ids("chunk_id", [c.chunk_id for c in chunks])
        self._bulk(self._index_actions(chunks, vectors))
        self._bulk([{"delete": {"_index": self.index, "_id": _id}} for _id, _ in stale])

    def replace_document(self, doc: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> int:
        self._check_vectors(chunks, vectors)
        if any(chunk.doc != doc for chunk in chunks):
            raise PermanentError(f"replace_document({doc!r}) was given chunks of another document")
        self.ensure_index()
        before = self._ids("doc", [doc])
        self._bulk(self._index_actions(chunks, vectors))
        keep = {c.chunk_id for c in chunks}
        # With _id = chunk_id (es) an unchanged chunk was just overwritten in place: keep it.
        stale = [_id for _id, cid in before if self.serverless or cid not in keep]
        self._bulk([{"delete": {"_index": self.index, "_id": _id}} for _id in stale])
        return len([cid for _, cid in before if cid not in keep])

    def delete_document(self, doc: str) -> int:
        self.ensure_index()
        before = self._ids("doc", [doc])
        self._bulk([{"delete": {"_index": self.index, "_id": _id}} for _id, _ in before])
        return len(before)

    # -- internals -------------------------------------------------------------------------------------

    def _check_vectors(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        if len(chunks) != len(vectors):
            raise PermanentError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        for chunk, vector in zip(chunks, vectors, strict=True):
            if len(vector) != self.dimension:
                raise ConfigurationError(
                    f"vector of {chunk.chunk_id} has {len(vector)} dimensions, "
                    f"the index expects {self.dimension}"
                )

    def _index_actions(
        self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
    ) -> list[dict[str, Any]]:
        actions: list[dict[str, Any]] = []
        for chunk, vector in zip(chunks, vectors, strict=True):
            action: dict[str, Any] = {"_index": self.index}
            if not self.serverless:
                action["_id"] = chunk.chunk_id
            actions.append({"index": action})
            actions.append(
                {
                    "chunk_id": chunk.chunk_id,
                    "doc": chunk.doc,
                    "section": chunk.section,
                    "text": chunk.text,
                    "metadata": chunk.metadata,
                    "embedding": [float(v) for v in vector],
                }
            )
        return actions

    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        """Send actions (an ``index`` header is followed by its source line) in batches; any item error
        fails loudly rather than leave a half-indexed document unnoticed."""
        operations: list[list[dict[str, Any]]] = []
        for action in actions:
            if "index" in action or "delete" in action:
                operations.append([action])
            else:
                operations[-1].append(action)
        for start in range(0, len(operations), _BULK_BATCH):
            self._send_bulk(
                [line for operation in operations[start : start + _BULK_BATCH] for line in operation]
            )

    def _send_bulk(self, batch: list[dict[str, Any]]) -> None:
        body = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in batch)
        params = {} if self.serverless else {"refresh": "true"}
        with _errors(f"bulk write to {self.index}"):
            reply = self.client.bulk(body=body, params=params)
        if reply.get("errors"):
            failures = [
                item
                for entry in reply.get("items", [])
                for item in entry.values()
                if item.get("error") and not (item.get("status") == 404 and "delete" in entry)
            ]
            if failures:
                status = int(failures[0].get("status") or 500)
                message = (
                    f"bulk write to {self.index}: {len(failures)} item(s) failed: {failures[0]['error']}"
                )
                raise TransientError(message) if status == 429 or status >= 500 else PermanentError(message)

    def _ids(self, field: str, values: Sequence[str]) -> list[tuple[str, str]]:
        """(_id, chunk_id) of the chunks whose ``field`` is one of ``values``."""
        if not values:
            return []
        with _errors(f"finding chunks in {self.index}"):
            reply = self.client.search(index=self.index, body=queries.ids_of_body(field, values, _MAX_IDS))
        return [(hit["_id"], hit["_source"]["chunk_id"]) for hit in reply["hits"]["hits"]]

    def _search(self, body: dict[str, Any], params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        with _errors(f"searching {self.index}"):
            reply = self.client.search(index=self.index, body=body, params=params or {})
        hits = reply.get("hits", {}).get("hits")
        if not isinstance(hits, list):
            raise TransientError(f"searching {self.index}: the reply has no hits")
        return hits


def _chunk(hit: Mapping[str, Any], score: float, raw_scores: Mapping[str, float]) -> Chunk:
    source = hit["_source"]
    metadata = {**(source.get("metadata") or {}), **raw_scores}
    return Chunk(
        chunk_id=source["chunk_id"],
        doc=source["doc"],
        section=source.get("section", ""),
        text=source.get("text", ""),
        score=round(score, 6),
        metadata=metadata,
    )


@contextmanager
def _errors(action: str) -> Iterator[None]:
    """opensearch-py's exceptions -> the core's error kinds (by status, so retries are decided once)."""
    from opensearchpy import exceptions

    try:
        yield
    except exceptions.ConnectionTimeout as error:
        raise TransientError(f"{action}: OpenSearch timed out") from error
    except exceptions.ConnectionError as error:
        raise TransientError(f"{action}: cannot reach OpenSearch: {error.error}") from error
    except exceptions.TransportError as error:
        status = error.status_code if isinstance(error.status_code, int) else 0
        detail = f"{action}: OpenSearch answered {status}: {_reason(error)}"
        if status in (401, 403):
            raise ConfigurationError(f"{detail} (check the IAM policy / data access policy)") from error
        if status == 429 or status >= 500 or status == 0:
            raise TransientError(detail) from error
        raise PermanentError(detail) from error


def _reason(error: Any) -> str:
    info = error.info
    if isinstance(info, dict):
        inner = info.get("error")
        if isinstance(inner, dict):
            return str(inner.get("reason") or inner.get("type") or inner)[:300]
        return str(inner or info)[:300]
    return str(info or error.error)[:300]
