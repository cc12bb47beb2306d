"""Static token vectors distilled from all-MiniLM-L6-v2: one 384-d vector per WordPiece token.

Each vocabulary token is run through the full model on its own (``[CLS] token [SEP]``, mean pooled, unit
length), the way model2vec distils a sentence encoder, then scaled by a SIF weight ``a / (a + p)`` where ``p``
is the token's Zipf probability by vocabulary rank (BERT's vocabulary is roughly frequency ordered): frequent
tokens ("the", ".", "of") count for little. A text's static embedding is then the sum of its tokens' rows,
normalised, and it lives in the same space as the full model's sentence embeddings.

Building the table costs one forward pass per token (30,522 three-token sequences: ~40 s on 2 cores), so it
is built once (``make install`` does it: ``python -m endurance.adapters.offline.token_table``) and cached as a
``.npy`` file that every process memory-maps. Concurrent builders take a file lock; the file appears
atomically.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from endurance.domain.errors import ConfigurationError

TABLE_VERSION = "v1"
# SIF smoothing: dev set, section recall@5 0.939 with 3e-5, 0.970 with 1e-4 and 3e-4; held-out 0.972 for all
# three (bench/results/retrieval.md). 1e-4 is also model2vec's default.
SIF_COEFFICIENT = 1e-4
_BUILD_BATCH = 2048


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/endurance`` (``~/.cache/endurance``): a derived artifact, shared by checkouts."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "endurance"


def table_path(model_dir: Path, cache_dir: Path) -> Path:
    """The cache file for these weights: its name carries a fingerprint, so new weights mean a new table."""
    weights = model_dir / "model.safetensors"
    stat = weights.stat()
    with weights.open("rb") as handle:
        head = handle.read(1 << 16)
    fingerprint = hashlib.sha256(head + str(stat.st_size).encode()).hexdigest()[:12]
    return cache_dir / f"minilm-token-table-{TABLE_VERSION}-{fingerprint}.npy"


def load_token_table(model_dir: Path, cache_dir: Path, *, encoder: Any = None) -> Any:
    """The (vocabulary, 384) float32 table, memory-mapped read-only; built first if it is not cached.

    ``encoder`` is a ``MiniLMEmbedder`` for these weights (one is made if it is not given)."""
    import numpy as np

    path = table_path(model_dir, cache_dir)
    if not path.is_file():
        _build_locked(path, model_dir, encoder)
    try:
        return np.load(path, mmap_mode="r")
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"{path}: unreadable token table ({error}); delete it to rebuild") from error


def build_token_table(encoder: Any) -> Any:
    """Distil the table from a ``MiniLMEmbedder`` (see the module docstring)."""
    import numpy as np

    tokenizer = encoder.tokenizer
    size = len(tokenizer.vocab)
    sequences = [[tokenizer.cls_id, token, tokenizer.sep_id] for token in range(size)]
    table = encoder.encode_ids(sequences, batch_size=_BUILD_BATCH)
    rank = np.arange(size, dtype=np.float64)
    probability = 1.0 / (rank + 2.0)
    probability /= probability.sum()
    table *= (SIF_COEFFICIENT / (SIF_COEFFICIENT + probability)).astype(np.float32)[:, None]
    return table


def _build_locked(path: Path, model_dir: Path, encoder: Any) -> None:
    import numpy as np

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigurationError(f"cannot create the model cache folder {path.parent}: {error}") from error
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.is_file():  # another process built it while this one waited
            return
        if encoder is None:
            from endurance.adapters.offline.minilm_embedder import MiniLMEmbedder

            encoder = MiniLMEmbedder(model_dir)
        print(f"building the MiniLM token table once: {path} (about a minute)", file=sys.stderr)
        table = build_token_table(encoder)
        fd, temp = tempfile.mkstemp(prefix=".table-", suffix=".npy", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, table)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def main() -> None:
    """``python -m endurance.adapters.offline.token_table``: build (or find) the table for the configured
    weights (MINILM_MODEL_DIR, MINILM_CACHE_DIR)."""
    from endurance.adapters.offline.minilm_embedder import MiniLMEmbedder
    from endurance.config import Settings

    settings = Settings.from_env()
    cache = Path(settings.minilm_cache_dir) if settings.minilm_cache_dir else default_cache_dir()
    try:
        encoder = MiniLMEmbedder(settings.minilm_model_dir or None)
        started = time.perf_counter()
        table = load_token_table(encoder.model_dir, cache, encoder=encoder)
    except ConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    elapsed = time.perf_counter() - started
    path = table_path(encoder.model_dir, cache)
    print(f"token table {path}: {table.shape[0]} x {table.shape[1]} ({elapsed:.1f} s)")


if __name__ == "__main__":
    main()
