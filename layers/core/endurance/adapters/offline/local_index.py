"""An embedded, on-disk vector index: cosine k-NN and BM25 fused by reciprocal rank fusion.

Everything lives in one file (``index.bin``: a JSON header with the chunks, then float32 vectors), replaced
atomically (temp file + ``os.replace``) so a reader never sees half a write. Writers take an exclusive
``fcntl`` lock on ``index.lock`` and re-read the file first, so the CLI can ingest while the local stack
serves. Readers reload when the file's identity (inode, mtime, size) changes. Brute force is fine for a few
thousand chunks.
"""

from __future__ import annotations

import fcntl
import json
import math
import operator
import os
import struct
import tempfile
import threading
from array import array
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from endurance.domain.errors import ConfigurationError, PermanentError
from endurance.domain.models import Chunk
from endurance.pipeline.text import content_terms

INDEX_FILE = "index.bin"
LOCK_FILE = "index.lock"
_MAGIC = b"ENDIDX1\n"
_HEADER_LENGTH = struct.Struct("<Q")
_RRF_K = 60
_BM25_K1 = 1.2
_BM25_B = 0.75


@dataclass
class _State:
    """An immutable snapshot: searches run on it without holding the lock."""

    chunks: list[Chunk] = field(default_factory=list)
    vectors: list[list[float]] = field(default_factory=list)
    postings: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    lengths: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, chunks: list[Chunk], vectors: list[list[float]]) -> _State:
        postings: dict[str, list[tuple[int, int]]] = {}
        lengths: list[int] = []
        for i, chunk in enumerate(chunks):
            terms = content_terms(f"{chunk.section}\n{chunk.text}")
            lengths.append(len(terms))
            for term, tf in Counter(terms).items():
                postings.setdefault(term, []).append((i, tf))
        return cls(chunks, vectors, postings, lengths)


class LocalIndex:
    """The offline ``VectorIndex``. One folder holds one index, tied to one embedder name and dimension."""

    def __init__(self, directory: str | Path, *, embedder_name: str, dimension: int) -> None:
        self.directory = Path(directory)
        self.embedder_name = embedder_name
        self.dimension = dimension
        self._path = self.directory / INDEX_FILE
        self._mutex = threading.RLock()
        self._state = _State()
        self._stamp: tuple[int, int, int] | None = None
        self.directory.mkdir(parents=True, exist_ok=True)
        self._refresh()

    # -- reads ---------------------------------------------------------------------------------------

    def count(self) -> int:
        return len(self._current().chunks)

    def documents(self) -> list[str]:
        return sorted({chunk.doc for chunk in self._current().chunks})

    def chunks(self, doc: str | None = None) -> list[Chunk]:
        """The stored chunks (of one document, or all), in storage order."""
        return [c.model_copy() for c in self._current().chunks if doc is None or c.doc == doc]

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
        state = self._current()
        candidates = [i for i, chunk in enumerate(state.chunks) if _matches(chunk, filters)]
        if not candidates or k <= 0:
            return []
        depth = max(50, 10 * k)
        cosine = {i: sum(map(operator.mul, vector, state.vectors[i])) for i in candidates}
        dense_rank = sorted(candidates, key=lambda i: (-cosine[i], i))[:depth]
        bm25 = _bm25(state, content_terms(query), set(candidates))
        lexical_rank = sorted(bm25, key=lambda i: (-bm25[i], i))[:depth]
        fused: dict[int, float] = {}
        for ranking in (dense_rank, lexical_rank):
            for rank, i in enumerate(ranking):
                fused[i] = fused.get(i, 0.0) + 1.0 / (_RRF_K + rank + 1)
        best = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        results = []
        for i in best:
            chunk = state.chunks[i]
            metadata = {**chunk.metadata, "cosine": round(cosine[i], 6), "bm25": round(bm25.get(i, 0.0), 6)}
            results.append(chunk.model_copy(update={"score": round(fused[i], 6), "metadata": metadata}))
        return results

    # -- writes --------------------------------------------------------------------------------------

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        pairs = self._validated(chunks, vectors)
        with self._write() as stored:
            for chunk, vector in pairs:
                stored[chunk.chunk_id] = (chunk, vector)

    def replace_document(self, doc: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> int:
        """Swap a document's chunks in one write, so no reader sees it missing. Returns chunks removed."""
        pairs = self._validated(chunks, vectors)
        if any(chunk.doc != doc for chunk, _ in pairs):
            raise PermanentError(f"replace_document({doc!r}) was given chunks of another document")
        with self._write() as stored:
            stale = [cid for cid, (chunk, _) in stored.items() if chunk.doc == doc]
            for cid in stale:
                del stored[cid]
            for chunk, vector in pairs:
                stored[chunk.chunk_id] = (chunk, vector)
        return len(stale)

    def delete_document(self, doc: str) -> int:
        with self._write() as stored:
            stale = [cid for cid, (chunk, _) in stored.items() if chunk.doc == doc]
            for cid in stale:
                del stored[cid]
        return len(stale)

    # -- internals -----------------------------------------------------------------------------------

    def _validated(
        self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
    ) -> list[tuple[Chunk, list[float]]]:
        if len(chunks) != len(vectors):
            raise PermanentError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        pairs = []
        for chunk, vector in zip(chunks, vectors, strict=True):
            if len(vector) != self.dimension:
                raise ConfigurationError(
                    f"vector of {chunk.chunk_id} has {len(vector)} dimensions, the index expects "
                    f"{self.dimension}"
                )
            pairs.append((chunk.model_copy(update={"score": 0.0}), [float(v) for v in vector]))
        return pairs

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
                self._state, self._stamp = _State(), None
                return
            chunks, vectors = self._load()
            self._state, self._stamp = _State.build(chunks, vectors), stamp

    def _load(self) -> tuple[list[Chunk], list[list[float]]]:
        data = self._path.read_bytes()
        if not data.startswith(_MAGIC):
            raise ConfigurationError(f"{self._path} is not an Endurance index file")
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
        flat = array("f")
        flat.frombytes(data[offset:])
        chunks = [Chunk.model_validate(raw) for raw in header["chunks"]]
        if len(flat) != len(chunks) * self.dimension:
            raise ConfigurationError(f"{self._path} is corrupt: vector data does not match its chunks")
        d = self.dimension
        vectors = [flat[i * d : (i + 1) * d].tolist() for i in range(len(chunks))]
        return chunks, vectors

    @contextmanager
    def _write(self) -> Iterator[dict[str, tuple[Chunk, list[float]]]]:
        """Lock, reload the newest file, let the caller edit, then save atomically."""
        with self._mutex, _file_lock(self.directory / LOCK_FILE):
            self._refresh()
            state = self._state
            stored = {c.chunk_id: (c, v) for c, v in zip(state.chunks, state.vectors, strict=True)}
            yield stored
            chunks = [chunk for chunk, _ in stored.values()]
            vectors = [vector for _, vector in stored.values()]
            self._save(chunks, vectors)
            self._state, self._stamp = _State.build(chunks, vectors), self._file_stamp()

    def _save(self, chunks: list[Chunk], vectors: list[list[float]]) -> None:
        header = json.dumps(
            {
                "embedder": self.embedder_name,
                "dimension": self.dimension,
                "chunks": [c.model_dump(mode="json", exclude={"score"}) for c in chunks],
            },
            ensure_ascii=False,
        ).encode()
        flat = array("f")
        for vector in vectors:
            flat.extend(vector)
        fd, temp = tempfile.mkstemp(prefix=".index-", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(_MAGIC)
                out.write(_HEADER_LENGTH.pack(len(header)))
                out.write(header)
                out.write(flat.tobytes())
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self._path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _matches(chunk: Chunk, filters: Mapping[str, str] | None) -> bool:
    if not filters:
        return True
    for key, wanted in filters.items():
        if key == "doc":
            if chunk.doc != wanted:
                return False
        elif key == "section":
            if not chunk.section.startswith(wanted):
                return False
        elif str(chunk.metadata.get(key)) != wanted:
            return False
    return True


def _bm25(state: _State, query_terms: list[str], allowed: set[int]) -> dict[int, float]:
    n = len(state.chunks)
    if n == 0:
        return {}
    average = sum(state.lengths) / n or 1.0
    scores: dict[int, float] = {}
    for term in set(query_terms):
        postings = state.postings.get(term)
        if not postings:
            continue
        idf = math.log(1.0 + (n - len(postings) + 0.5) / (len(postings) + 0.5))
        for i, tf in postings:
            if i not in allowed:
                continue
            norm = tf + _BM25_K1 * (1.0 - _BM25_B + _BM25_B * state.lengths[i] / average)
            scores[i] = scores.get(i, 0.0) + idf * tf * (_BM25_K1 + 1.0) / norm
    return scores
