"""MiniLM for retrieval at hashing speed: static token vectors for documents, the full model for queries.

Documents (the bulk of the work) are embedded as the normalised sum of their WordPiece tokens' rows in the
distilled token table (``token_table.py``): a lookup and a sum, ~500 chunks/s in one process. Queries (one
short text per search) go through the whole 6-layer model, ~15 ms, so the question's phrasing is read in
context ("sign off" lands near "approve"). Both vectors live in the model's sentence-embedding space, which
is what makes the asymmetry work. On the dev set this reaches section-level recall@5 0.970 (hashing 0.939,
full MiniLM on both sides 1.000 at ~6-15 chunks/s); numbers in bench/results/retrieval.md.

numpy is imported lazily (by the MiniLM encoder and the table loader): the Lambda layer never loads this.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from endurance.adapters.offline.minilm_embedder import MiniLMEmbedder
from endurance.adapters.offline.token_table import TABLE_VERSION, default_cache_dir, load_token_table


class MiniLMStaticEmbedder:
    """384-d unit vectors; ``embed`` is for documents, ``embed_queries`` for questions."""

    dimension = 384
    name = f"all-MiniLM-L6-v2-static-{TABLE_VERSION}"

    def __init__(self, model_dir: str | Path | None = None, cache_dir: str | Path | None = None) -> None:
        import numpy as np

        self._np = np
        self._encoder = MiniLMEmbedder(model_dir)
        self._tokenizer = self._encoder.tokenizer
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        self._table = load_token_table(self._encoder.model_dir, cache, encoder=self._encoder)
        self.dimension = int(self._table.shape[1])

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embed_documents_array(texts).tolist()

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self._encoder.embed(texts)

    def embed_documents_array(self, texts: Sequence[str]) -> Any:
        np = self._np
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = self._tokenizer.token_ids(text)
            if not ids:
                continue  # a blank text: the zero vector, as the hashing embedder gives
            summed = self._table[ids].sum(axis=0)
            out[row] = summed / max(float(np.linalg.norm(summed)), 1e-12)
        return out
