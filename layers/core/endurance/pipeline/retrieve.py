"""The retrieve step: embed the question, then a fused k-NN + lexical search of the index."""

from __future__ import annotations

from endurance.domain.models import Chunk
from endurance.ports.providers import Embedder, VectorIndex


def retrieve(question: str, *, embedder: Embedder, index: VectorIndex, k: int = 5) -> list[Chunk]:
    """The ``k`` best chunks for the question, best first, each with its fused ``score``."""
    (vector,) = embedder.embed_queries([question])
    return index.search(question, vector, k=k)
