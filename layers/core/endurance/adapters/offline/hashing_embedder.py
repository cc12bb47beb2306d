"""A deterministic embedder that needs no model: signed feature hashing of words, word pairs and trigrams.

Unigrams carry topic, bigrams carry phrases ("retention period"), character trigrams make it forgiving of
inflection and spelling. Signed hashing keeps collisions unbiased; L2 normalisation makes the dot product a
cosine. The hash is blake2b, not ``hash()``, so vectors are identical across processes and machines.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from endurance.pipeline.text import content_terms

_UNIGRAM_WEIGHT = 1.0
_BIGRAM_WEIGHT = 0.8
_TRIGRAM_WEIGHT = 0.25


class HashingEmbedder:
    """Feature-hashing embedder. Its ``name`` changes whenever the features change (then re-ingest)."""

    def __init__(self, dimension: int = 512) -> None:
        if dimension < 16:
            raise ValueError("dimension must be at least 16")
        self.dimension = dimension
        self.name = "hashing-v1"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._embed_one(text) for text in texts]

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embed(texts)

    def _embed_one(self, text: str) -> list[float]:
        features = _features(text)
        vector = [0.0] * self.dimension
        for feature, weight in features.items():
            slot, sign = _slot(feature, self.dimension)
            vector[slot] += sign * weight
        norm = math.sqrt(sum(v * v for v in vector))
        if norm == 0.0:
            return vector
        return [v / norm for v in vector]


def _features(text: str) -> dict[str, float]:
    terms = content_terms(text)
    counts: Counter[str] = Counter()
    for term in terms:
        counts["w:" + term] += 1
        if not term[:1].isdigit():
            padded = f"<{term}>"
            for i in range(len(padded) - 2):
                counts["c:" + padded[i : i + 3]] += 1
    for left, right in itertools.pairwise(terms):
        counts[f"b:{left} {right}"] += 1
    weights = {"w": _UNIGRAM_WEIGHT, "b": _BIGRAM_WEIGHT, "c": _TRIGRAM_WEIGHT}
    # Sub-linear term frequency: a word repeated ten times is not ten times as telling.
    return {feature: weights[feature[0]] * (1.0 + math.log(count)) for feature, count in counts.items()}


@lru_cache(maxsize=262144)
def _slot(feature: str, dimension: int) -> tuple[int, float]:
    digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    return digest % dimension, (1.0 if (digest >> 63) & 1 else -1.0)
