from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from endurance.adapters.offline.hashing_embedder import HashingEmbedder

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus"


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_vectors_are_normalised_and_sized() -> None:
    embedder = HashingEmbedder(dimension=256)
    vector, empty = embedder.embed(["Retention of CCTV footage", "   "])
    assert len(vector) == 256 and math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0)
    assert empty == [0.0] * 256


def test_related_texts_are_closer_than_unrelated_ones() -> None:
    embedder = HashingEmbedder()
    query, related, unrelated = embedder.embed(
        [
            "How long is CCTV footage retained?",
            "CCTV footage at Ministry buildings is retained for 30 days.",
            "The supplier must deposit the source code with an escrow agent.",
        ]
    )
    assert _cosine(query, related) > _cosine(query, unrelated) + 0.2


def test_identical_in_another_process() -> None:
    text = "Staff must use phishing-resistant multi-factor authentication by 31 December 2023."
    code = (
        "import json, sys; from endurance.adapters.offline.hashing_embedder import HashingEmbedder; "
        "print(json.dumps(HashingEmbedder().embed([sys.argv[1]])[0]))"
    )
    other = json.loads(
        subprocess.run([sys.executable, "-c", code, text], capture_output=True, check=True).stdout
    )
    assert other == HashingEmbedder().embed([text])[0]
