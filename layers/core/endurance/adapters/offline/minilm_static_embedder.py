"""MiniLM for retrieval at hashing speed: static token vectors for documents, the full model for queries.

Documents (the bulk of the work) are embedded as the normalised sum of their WordPiece tokens' rows in the
distilled token table (``token_table.py``): a lookup and a sum, ~500 chunks/s in one process. Queries (one
short text per search) go through the whole 6-layer model, ~15 ms, so the question's phrasing is read in
context ("sign off" lands near "approve"). Both vectors live in the model's sentence-embedding space, which
is what makes the asymmetry work. On the dev set this reaches section-level recall@5 0.970 (hashing 0.939,
full MiniLM on both sides 1.000 at ~8 chunks/s); numbers in bench/results/retrieval.md.

numpy is imported when an embedder is built, not when this module is: the Lambda layer never loads it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from endurance.adapters.offline.minilm_embedder import MiniLMEmbedder, require_model_dir
from endurance.adapters.offline.token_table import TABLE_VERSION, default_cache_dir, load_token_table
from endurance.adapters.offline.wordpiece import WordPieceTokenizer
from endurance.domain.errors import ConfigurationError


class MiniLMStaticEmbedder:
    """384-d unit vectors; ``embed`` is for documents, ``embed_queries`` for questions.

    The full model is loaded on the first query only: a process that only ingests (the ingest function)
    needs the vocabulary and the table, not the 88 MB of weights."""

    dimension = 384
    name = f"all-MiniLM-L6-v2-static-{TABLE_VERSION}"

    def __init__(self, model_dir: str | Path | None = None, cache_dir: str | Path | None = None) -> None:
        try:
            import numpy as np
        except ImportError as error:
            raise ConfigurationError("EMBEDDER=minilm-static needs numpy (pip install numpy)") from error
        self._np = np
        self._model_dir = require_model_dir(model_dir)
        self._tokenizer = WordPieceTokenizer.from_vocab_file(self._model_dir / "vocab.txt")
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        self._table = load_token_table(self._model_dir, cache)
        self.dimension = int(self._table.shape[1])
        self._encoder: MiniLMEmbedder | None = None
        self._encoder_lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embed_documents_array(texts).tolist()

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self._full_model().embed(texts)

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

    def _full_model(self) -> MiniLMEmbedder:
        with self._encoder_lock:
            if self._encoder is None:
                self._encoder = MiniLMEmbedder(self._model_dir)
            return self._encoder
