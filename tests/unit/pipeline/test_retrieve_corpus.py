from __future__ import annotations

from typing import Any

from endurance.adapters.offline.hashing_embedder import HashingEmbedder
from endurance.adapters.offline.local_index import LocalIndex
from endurance.pipeline.retrieve import retrieve


def test_gold_documents_are_in_the_top_five(
    dev_questions: list[dict[str, Any]], embedder: HashingEmbedder, corpus_index: LocalIndex
) -> None:
    rows = [row for row in dev_questions if row["kind"] in ("fact", "comparison")]
    found = 0
    for row in rows:
        docs = {chunk.doc for chunk in retrieve(row["question"], embedder=embedder, index=corpus_index, k=5)}
        found += all(source["doc"] in docs for source in row["sources"])
    assert found / len(rows) >= 0.9


def test_results_are_ranked_and_scored(embedder: HashingEmbedder, corpus_index: LocalIndex) -> None:
    chunks = retrieve(
        "How quickly must the SOC acknowledge a SEV-1 incident?", embedder=embedder, index=corpus_index
    )
    assert len(chunks) == 5
    assert chunks[0].doc == "Incident_Response_Runbook.md"
    assert chunks[0].section == "2. Severity Levels > 2.2 Acknowledgement and Update Times"
    scores = [chunk.score for chunk in chunks]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0


def test_k_limits_the_results(embedder: HashingEmbedder, corpus_index: LocalIndex) -> None:
    assert len(retrieve("budget", embedder=embedder, index=corpus_index, k=2)) == 2
