"""The embedded, on-disk vector index (the local default): cosine k-NN and BM25, fused by reciprocal rank.

Same semantics as the OpenSearch adapter: a k-NN list and a BM25 list over the chunks that pass the filters
(``doc`` exact, ``section`` prefix, any other key against ``metadata``), fused with RRF (k=60).

Storage: one file, ``index.bin`` = magic, a JSON header (embedder, dimension, chunks, IVF lists), then the
float32 vectors and, for large indexes, the IVF centroids and list assignments. It is replaced atomically
(temp file + ``os.replace``): a reader never sees half a write. Writers take an exclusive ``fcntl`` lock on
``index.lock`` and re-read the newest file first, so the CLI can ingest while the local stack serves; readers
reload when the file's identity (inode, mtime, size) changes.

Search: below ``IVF_MIN_CHUNKS`` an exact matrix-vector product (about 1 ms for 20k x 384). Above, an
inverted-file index (spherical k-means, ~sqrt(n) lists, vectors stored contiguously per list) probes the
nearest ``nprobe`` lists: bench/results/retrieval.md measures p95 and recall@10 against exact search at 100k.
numpy is required (developer side only: the Lambda path uses OpenSearch, so it is not in the layer).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import struct
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from endurance.domain.errors import ConfigurationError, PermanentError
from endurance.domain.models import Chunk
from endurance.pipeline.text import content_terms

try:
    import numpy as np
except (
    ImportError
):  # pragma: no cover - exercised only where numpy is missing (a Lambda with VECTOR_STORE=local)
    np = None  # type: ignore[assignment]

INDEX_FILE = "index.bin"
LOCK_FILE = "index.lock"
_MAGIC = b"ENDIDX2\n"
# Version 1 (before IVF) has the same layout without the IVF part: read it, so an existing state dir keeps
# working; the next write saves version 2.
_READABLE_MAGICS = (_MAGIC, b"ENDIDX1\n")
_HEADER_LENGTH = struct.Struct("<Q")
# Fusion (dev and held-out sets, hashing embedder; bench/results/retrieval.md "Section recall"): BM25 counts
# 1.5x the k-NN list and RRF k is 20, then the best RERANK_DEPTH fused chunks are reordered by how much of the
# query's idf mass they contain (title + heading path + text), worth up to COVERAGE_WEIGHT first-place RRF
# votes. The section-level MRR rose 0.834 -> 0.860 (dev) and 0.880 -> 0.908 (held-out), held-out recall@5
# 0.944 -> 0.972. With k = 60 the same rerank cost dev recall@5 (0.939 -> 0.909), so k moved with it.
RRF_K = 20
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.5
RERANK_DEPTH = 20
COVERAGE_WEIGHT = 1.0
BM25_K1 = 1.2
BM25_B = 0.75
IVF_MIN_CHUNKS = 20_000
DEFAULT_NPROBE = 24
_KMEANS_ITERATIONS = 8
_KMEANS_SAMPLE_PER_LIST = 48
_RETRAIN_GROWTH = 2.0  # retrain the lists when the index has doubled since they were trained
# Lexical conflation: besides its stem, every word longer than this also counts as its first few letters
# ("~appr"), so derived forms the suffix stemmer keeps apart still meet: approve/approval, respond/response,
# minister/ministerial. The prefix is a separate term with its own (lower) idf, so an exact stem match still
# scores higher. Dev set, section recall@5 0.879 -> 0.939; held-out 0.917 -> 0.944 (prefixes of 5 or 6
# letters: dev the same, held-out no gain; bench/results/retrieval.md).
PREFIX_LETTERS = 4


@cache
def _blas_controller() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def _one_blas_thread() -> AbstractContextManager[Any]:
    """Single-query products are small: a multi-threaded BLAS only adds hand-off stalls (10 ms p95 spikes
    on a busy 2-core machine), so queries run on one thread when threadpoolctl is there (~20 us)."""
    controller = _blas_controller()
    return nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")


def _require_numpy() -> None:
    if np is None:
        raise ConfigurationError("VECTOR_STORE=local needs numpy (pip install numpy); on AWS use opensearch")


@dataclass
class _Ivf:
    """Inverted lists: ``order`` lists row numbers grouped by list, ``offsets[i]:offsets[i+1]`` is list i."""

    centroids: Any  # (lists, d) float32, unit rows
    assignment: Any  # (n,) int32: each row's list
    trained_on: int
    order: Any = None
    offsets: Any = None
    grouped: Any = None  # vectors[order]: each list contiguous, so a probe is one slice

    def finish(self, vectors: Any) -> _Ivf:
        self.order = np.argsort(self.assignment, kind="stable").astype(np.int64)
        counts = np.bincount(self.assignment, minlength=len(self.centroids))
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.grouped = np.ascontiguousarray(vectors[self.order])
        return self


class _State:
    """An immutable snapshot: searches run on it without holding the lock."""

    def __init__(self, chunks: list[dict[str, Any]], vectors: Any, ivf: _Ivf | None) -> None:
        self.chunks = chunks  # plain dicts (Chunk fields minus score); Chunk objects only for results
        self.vectors = vectors  # (n, d) float32
        self.ivf = ivf
        self.docs = (
            np.array([c["doc"] for c in chunks], dtype=object) if chunks else np.array([], dtype=object)
        )
        self._lexical: tuple[dict[str, tuple[Any, Any]], float] | None = None
        self._lock = threading.Lock()

    def lexical(self) -> dict[str, tuple[Any, Any]]:
        """term -> (rows, BM25 term weight without idf), built on first use (writers never need it)."""
        with self._lock:
            if self._lexical is None:
                self._lexical = _build_postings(self.chunks)
            return self._lexical[0]


class LocalIndex:
    """The offline ``VectorIndex``. One folder holds one index, tied to one embedder name and dimension."""

    def __init__(
        self, directory: str | Path, *, embedder_name: str, dimension: int, nprobe: int = DEFAULT_NPROBE
    ) -> None:
        _require_numpy()
        self.directory = Path(directory)
        self.embedder_name = embedder_name
        self.dimension = dimension
        self.nprobe = nprobe
        self._path = self.directory / INDEX_FILE
        self._mutex = threading.RLock()
        self._state = _State([], np.zeros((0, dimension), dtype=np.float32), None)
        self._stamp: tuple[int, int, int] | None = None
        self.directory.mkdir(parents=True, exist_ok=True)
        self._refresh()

    # -- reads ---------------------------------------------------------------------------------------

    def count(self) -> int:
        return len(self._current().chunks)

    def documents(self) -> list[str]:
        return sorted({chunk["doc"] for chunk in self._current().chunks})

    def chunks(self, doc: str | None = None) -> list[Chunk]:
        """The stored chunks (of one document, or all), in storage order."""
        return [Chunk.model_validate(c) for c in self._current().chunks if doc is None or c["doc"] == doc]

    def search(
        self,
        query: str,
        vector: Sequence[float],
        *,
        k: int = 5,
        filters: Mapping[str, str] | None = None,
    ) -> list[Chunk]:
        state = self._current()
        query_vector = self._query_vector(vector)
        if k <= 0 or not state.chunks:
            return []
        allowed = _allowed_rows(state, filters)
        if allowed is not None and len(allowed) == 0:
            return []
        depth = max(50, 10 * k)
        with _one_blas_thread():
            dense_rows, dense_scores = self._dense(state, query_vector, depth, allowed)
        query_terms = lexical_terms(query)
        lexical_rows, lexical_scores = _bm25(state, query_terms, depth, allowed)
        fused: dict[int, float] = {}
        for weight, ranking in ((DENSE_WEIGHT, dense_rows), (LEXICAL_WEIGHT, lexical_rows)):
            for rank, row in enumerate(ranking.tolist()):
                fused[row] = fused.get(row, 0.0) + weight / (RRF_K + rank + 1)
        ranked = sorted(fused, key=lambda row: (-fused[row], row))
        head = ranked[:RERANK_DEPTH]
        coverage = _coverage(state, query_terms, np.asarray(head, dtype=np.int64)).tolist()
        for row, share in zip(head, coverage, strict=True):
            fused[row] += COVERAGE_WEIGHT * share / (RRF_K + 1)
        best = sorted(head, key=lambda row: (-fused[row], row))[:k] + ranked[RERANK_DEPTH:k]
        cosine = dict(zip(dense_rows.tolist(), dense_scores.tolist(), strict=True))
        bm25 = dict(zip(lexical_rows.tolist(), lexical_scores.tolist(), strict=True))
        results = []
        for row in best:
            raw = state.chunks[row]
            if row not in cosine:  # found by words only: its cosine is still worth showing
                cosine[row] = float(state.vectors[row] @ query_vector)
            metadata = {
                **raw.get("metadata", {}),
                "cosine": round(cosine[row], 6),
                "bm25": round(bm25.get(row, 0.0), 6),
            }
            results.append(Chunk.model_validate({**raw, "score": round(fused[row], 6), "metadata": metadata}))
        return results

    def knn(self, vector: Sequence[float], k: int = 10, *, exact: bool = False) -> list[tuple[str, float]]:
        """Dense neighbours only, as (chunk_id, cosine): what the speed benchmark measures against exact."""
        state = self._current()
        with _one_blas_thread():
            rows, scores = self._dense(state, self._query_vector(vector), k, None, exact=exact)
        return [(state.chunks[r]["chunk_id"], s) for r, s in zip(rows.tolist(), scores.tolist(), strict=True)]

    # -- writes --------------------------------------------------------------------------------------

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        rows, matrix = self._validated(chunks, vectors)
        with self._write() as stored:
            for position, row in enumerate(rows):
                stored[row["chunk_id"]] = (row, matrix[position])

    def replace_document(self, doc: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> int:
        """Swap a document's chunks in one write, so no reader sees it missing. Returns chunks removed."""
        rows, matrix = self._validated(chunks, vectors)
        if any(row["doc"] != doc for row in rows):
            raise PermanentError(f"replace_document({doc!r}) was given chunks of another document")
        with self._write() as stored:
            stale = [cid for cid, (row, _) in stored.items() if row["doc"] == doc]
            for cid in stale:
                del stored[cid]
            for position, row in enumerate(rows):
                stored[row["chunk_id"]] = (row, matrix[position])
        return len(stale)

    def delete_document(self, doc: str) -> int:
        with self._write() as stored:
            stale = [cid for cid, (row, _) in stored.items() if row["doc"] == doc]
            for cid in stale:
                del stored[cid]
        return len(stale)

    # -- dense search ----------------------------------------------------------------------------------

    def _query_vector(self, vector: Sequence[float]) -> Any:
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape[0] != self.dimension:
            raise ConfigurationError(
                f"query vector has {query.shape[0]} dimensions, the index expects {self.dimension}"
            )
        return query

    def _dense(
        self, state: _State, query: Any, depth: int, allowed: Any | None, *, exact: bool = False
    ) -> tuple[Any, Any]:
        """(rows, cosines) of the ``depth`` nearest chunks, best first."""
        if allowed is not None:
            scores = state.vectors[allowed] @ query
            return _top(allowed, scores, depth)
        if state.ivf is None or exact:
            return _top(None, state.vectors @ query, depth)
        ivf = state.ivf
        nearest = _top(None, ivf.centroids @ query, min(self.nprobe, len(ivf.centroids)))[0]
        rows, scores = [], []
        for list_number in nearest.tolist():
            start, end = int(ivf.offsets[list_number]), int(ivf.offsets[list_number + 1])
            if start == end:
                continue
            rows.append(ivf.order[start:end])
            scores.append(ivf.grouped[start:end] @ query)
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return _top(np.concatenate(rows), np.concatenate(scores), depth)

    # -- internals -----------------------------------------------------------------------------------

    def _validated(
        self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
    ) -> tuple[list[dict[str, Any]], Any]:
        if len(chunks) != len(vectors):
            raise PermanentError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        for chunk, vector in zip(chunks, vectors, strict=True):
            if len(vector) != self.dimension:
                raise ConfigurationError(
                    f"vector of {chunk.chunk_id} has {len(vector)} dimensions, the index expects "
                    f"{self.dimension}"
                )
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(chunks), self.dimension)
        rows = [chunk.model_dump(mode="json", exclude={"score"}) for chunk in chunks]
        return rows, matrix

    def _current(self) -> _State:
        self._refresh()
        return self._state

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def _refresh(self) -> None:
        with self._mutex:
            stamp = self._file_stamp()
            if stamp == self._stamp:
                return
            if stamp is None:
                self._state = _State([], np.zeros((0, self.dimension), dtype=np.float32), None)
                self._stamp = None
                return
            self._state, self._stamp = self._load(), stamp

    def _load(self) -> _State:
        data = self._path.read_bytes()
        if not data.startswith(_READABLE_MAGICS):
            raise ConfigurationError(
                f"{self._path} is not an Endurance index file of this version: "
                "delete the folder and re-ingest"
            )
        offset = len(_MAGIC)
        (header_length,) = _HEADER_LENGTH.unpack_from(data, offset)
        offset += _HEADER_LENGTH.size
        header = json.loads(data[offset : offset + header_length])
        offset += header_length
        if header["embedder"] != self.embedder_name or header["dimension"] != self.dimension:
            raise ConfigurationError(
                f"the index in {self.directory} was built with embedder {header['embedder']!r} "
                f"({header['dimension']} dimensions), but {self.embedder_name!r} ({self.dimension} "
                "dimensions) is configured: delete the folder and re-ingest, or configure the same embedder"
            )
        chunks = header["chunks"]
        n, d = len(chunks), self.dimension
        try:
            vectors = np.frombuffer(data, dtype="<f4", count=n * d, offset=offset).reshape(n, d)
            offset += n * d * 4
            ivf = None
            if header.get("ivf"):
                lists = int(header["ivf"]["lists"])
                centroids = np.frombuffer(data, dtype="<f4", count=lists * d, offset=offset).reshape(lists, d)
                offset += lists * d * 4
                assignment = np.frombuffer(data, dtype="<i4", count=n, offset=offset)
                offset += n * 4
                ivf = _Ivf(centroids, assignment, int(header["ivf"]["trained_on"])).finish(vectors)
        except ValueError as error:
            raise ConfigurationError(f"{self._path} is corrupt: {error}") from error
        if offset != len(data):
            raise ConfigurationError(f"{self._path} is corrupt: vector data does not match its chunks")
        return _State(chunks, vectors, ivf)

    @contextmanager
    def _write(self) -> Iterator[dict[str, tuple[dict[str, Any], Any]]]:
        """Lock, reload the newest file, let the caller edit, then save atomically."""
        with self._mutex, _file_lock(self.directory / LOCK_FILE):
            self._refresh()
            state = self._state
            stored = {row["chunk_id"]: (row, state.vectors[i]) for i, row in enumerate(state.chunks)}
            yield stored
            chunks = [row for row, _ in stored.values()]
            vectors = (
                np.stack([vector for _, vector in stored.values()]).astype(np.float32, copy=False)
                if stored
                else np.zeros((0, self.dimension), dtype=np.float32)
            )
            ivf = _updated_ivf(state, chunks, vectors)
            self._save(chunks, vectors, ivf)
            self._state, self._stamp = _State(chunks, vectors, ivf), self._file_stamp()

    def _save(self, chunks: list[dict[str, Any]], vectors: Any, ivf: _Ivf | None) -> None:
        header: dict[str, Any] = {
            "embedder": self.embedder_name,
            "dimension": self.dimension,
            "chunks": chunks,
        }
        if ivf is not None:
            header["ivf"] = {"lists": len(ivf.centroids), "trained_on": ivf.trained_on}
        encoded = json.dumps(header, ensure_ascii=False).encode()
        fd, temp = tempfile.mkstemp(prefix=".index-", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(_MAGIC)
                out.write(_HEADER_LENGTH.pack(len(encoded)))
                out.write(encoded)
                out.write(np.ascontiguousarray(vectors, dtype="<f4").tobytes())
                if ivf is not None:
                    out.write(np.ascontiguousarray(ivf.centroids, dtype="<f4").tobytes())
                    out.write(np.ascontiguousarray(ivf.assignment, dtype="<i4").tobytes())
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self._path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


# -- IVF ---------------------------------------------------------------------------------------------


def _updated_ivf(previous: _State, chunks: list[dict[str, Any]], vectors: Any) -> _Ivf | None:
    """Keep the trained centroids while they still fit the data (assigning new rows), retrain when the
    index has grown a lot, drop them when it is small enough for exact search."""
    n = len(chunks)
    if n < IVF_MIN_CHUNKS:
        return None
    old = previous.ivf
    if old is None or n > old.trained_on * _RETRAIN_GROWTH or n * _RETRAIN_GROWTH < old.trained_on:
        centroids = train_centroids(vectors, max(16, int(math.sqrt(n))))
        trained_on = n
    else:
        centroids, trained_on = old.centroids, old.trained_on
    return _Ivf(centroids, _assign(vectors, centroids), trained_on).finish(vectors)


def train_centroids(vectors: Any, lists: int, *, seed: int = 0) -> Any:
    """Spherical k-means on a sample (cosine space): unit centroids, empty lists re-seeded."""
    rng = np.random.default_rng(seed)
    sample_size = min(len(vectors), lists * _KMEANS_SAMPLE_PER_LIST)
    sample = vectors[rng.choice(len(vectors), sample_size, replace=False)]
    centroids = sample[rng.choice(len(sample), lists, replace=False)].copy()
    for _ in range(_KMEANS_ITERATIONS):
        assignment = np.argmax(sample @ centroids.T, axis=1)
        sums = np.zeros_like(centroids)
        np.add.at(sums, assignment, sample)
        counts = np.bincount(assignment, minlength=lists)
        empty = counts == 0
        if empty.any():
            sums[empty] = sample[rng.choice(len(sample), int(empty.sum()), replace=False)]
        centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return centroids.astype(np.float32)


def _assign(vectors: Any, centroids: Any, block: int = 16384) -> Any:
    parts = [np.argmax(vectors[i : i + block] @ centroids.T, axis=1) for i in range(0, len(vectors), block)]
    return np.concatenate(parts).astype(np.int32) if parts else np.zeros(0, dtype=np.int32)


# -- helpers -----------------------------------------------------------------------------------------


def _top(rows: Any | None, scores: Any, depth: int) -> tuple[Any, Any]:
    """The ``depth`` best (rows, scores), best first; ties broken by row number for stable results."""
    keep = np.argpartition(-scores, depth - 1)[:depth] if len(scores) > depth else np.arange(len(scores))
    ids = keep if rows is None else rows[keep]
    order = np.lexsort((ids, -scores[keep]))
    return ids[order].astype(np.int64), scores[keep][order]


def _allowed_rows(state: _State, filters: Mapping[str, str] | None) -> Any | None:
    if not filters:
        return None
    mask = np.ones(len(state.chunks), dtype=bool)
    for key, wanted in filters.items():
        if key == "doc":
            mask &= state.docs == wanted
        elif key == "section":
            mask &= np.array([c.get("section", "").startswith(wanted) for c in state.chunks], dtype=bool)
        else:
            mask &= np.array(
                [str(c.get("metadata", {}).get(key)) == wanted for c in state.chunks], dtype=bool
            )
    return np.flatnonzero(mask)


def lexical_terms(text: str) -> list[str]:
    """The BM25 terms of a text: its content terms, then the ``~`` prefix of each longer word."""
    terms = content_terms(text)
    return terms + [
        "~" + term[:PREFIX_LETTERS] for term in terms if len(term) > PREFIX_LETTERS and not term[:1].isdigit()
    ]


def _build_postings(chunks: list[dict[str, Any]]) -> tuple[dict[str, tuple[Any, Any]], float]:
    term_rows: dict[str, list[int]] = {}
    term_tfs: dict[str, list[int]] = {}
    lengths = np.zeros(len(chunks), dtype=np.float32)
    for row, chunk in enumerate(chunks):
        title = (chunk.get("metadata") or {}).get("title") or ""
        terms = lexical_terms(f"{title}\n{chunk.get('section', '')}\n{chunk['text']}")
        lengths[row] = len(terms)
        for term, tf in Counter(terms).items():
            term_rows.setdefault(term, []).append(row)
            term_tfs.setdefault(term, []).append(tf)
    average = float(lengths.mean()) if len(chunks) else 1.0
    norms = BM25_K1 * (1.0 - BM25_B + BM25_B * lengths / (average or 1.0))
    postings = {}
    for term, rows in term_rows.items():
        ids = np.asarray(rows, dtype=np.int64)
        tf = np.asarray(term_tfs[term], dtype=np.float32)
        postings[term] = (ids, tf * (BM25_K1 + 1.0) / (tf + norms[ids]))
    return postings, average


def _bm25(state: _State, query_terms: list[str], depth: int, allowed: Any | None) -> tuple[Any, Any]:
    n = len(state.chunks)
    postings = state.lexical()
    scores = np.zeros(n, dtype=np.float32)
    touched = False
    for term in set(query_terms):
        entry = postings.get(term)
        if entry is None:
            continue
        rows, weights = entry
        idf = math.log(1.0 + (n - len(rows) + 0.5) / (len(rows) + 0.5))
        scores[rows] += idf * weights
        touched = True
    if not touched:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    candidates = np.flatnonzero(scores > 0) if allowed is None else allowed[scores[allowed] > 0]
    return _top(candidates, scores[candidates], depth)


def _coverage(state: _State, query_terms: list[str], rows: Any) -> Any:
    """The share of the query's idf mass each row contains (0..1): a chunk that holds every telling query
    word, in its text or its heading path, beats one that repeats a single word many times."""
    n = len(state.chunks)
    postings = state.lexical()
    found = np.zeros(len(rows), dtype=np.float64)
    total = 0.0
    for term in set(query_terms):
        entry = postings.get(term)
        if entry is None or len(rows) == 0:
            continue
        term_rows = entry[0]  # ascending: postings are built in row order
        idf = math.log(1.0 + (n - len(term_rows) + 0.5) / (len(term_rows) + 0.5))
        total += idf
        at = np.minimum(np.searchsorted(term_rows, rows), len(term_rows) - 1)
        found += idf * (term_rows[at] == rows)
    return found / total if total else found


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
