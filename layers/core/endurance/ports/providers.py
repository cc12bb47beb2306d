"""Protocols for the model-side providers: embeddings, the vector index and answer generation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from endurance.domain.models import Answer, Chunk, Route


class Embedder(Protocol):
    """Turns texts into vectors. An index is tied to one embedder ``name`` and ``dimension``."""

    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for documents (chunks)."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for search queries, in the same space: equal to ``embed`` unless the embedder is
        asymmetric (``minilm-static`` reads questions with the full model, documents with a static table)."""
        ...


class VectorIndex(Protocol):
    """Stores chunks with their vectors; searches them by k-NN fused with lexical scoring."""

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None: ...

    def delete_document(self, doc: str) -> int: ...

    def search(
        self,
        query: str,
        vector: Sequence[float],
        *,
        k: int = 5,
        filters: Mapping[str, str] | None = None,
    ) -> list[Chunk]:
        """Best first, with ``Chunk.score`` set. Filters: ``doc`` (exact), ``section`` (prefix)."""
        ...

    def count(self) -> int: ...

    def documents(self) -> list[str]: ...


class AnswerGenerator(Protocol):
    """Writes an answer from retrieved chunks, citing them as [n] (n indexes ``Answer.sources``)."""

    name: str

    def generate(self, question: str, chunks: Sequence[Chunk], *, route: Route) -> Answer: ...
