"""A tiny randomly initialised BERT written to disk in the real file formats (safetensors + vocab.txt), so
the MiniLM code paths are tested without the 84 MB weights."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

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


def write_model(folder: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
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
