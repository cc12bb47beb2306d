"""Section-level misses of the default embedder on the dev set and the held-out set, with what was retrieved.

The held-out set (``bench/retrieval/heldout_questions.jsonl``) was written from the corpus documents, not from
the dev questions, so a change that helps only the dev strings shows up here as no gain (or a loss).
Run: ``python -m bench.retrieval.misses [--all]`` (``--all`` prints every question, not only the misses); the
embedder is EMBEDDER's (default ``minilm-static``; ``EMBEDDER=hashing`` for the hashing one).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from endurance.adapters.offline.local_index import LocalIndex
from endurance.config import Settings
from endurance.ingestion.ingest import ingest_path
from endurance.ports.providers import Embedder
from endurance.providers import build_embedder

from bench.retrieval.quality import CORPUS, DEPTH, Scores, doc_matches, load_questions, section_matches

HELDOUT = Path(__file__).with_name("heldout_questions.jsonl")
FACT_KINDS = ("fact", "comparison")


def summary(index: LocalIndex, embedder: Embedder, questions: list[dict[str, Any]], show: bool) -> str:
    section, doc = Scores(), Scores()
    lines = []
    for row in questions:
        if row["kind"] not in FACT_KINDS:
            continue
        (vector,) = embedder.embed_queries([row["question"]])
        ranked = index.search(row["question"], vector, k=DEPTH)
        section.add(ranked, row["sources"], section_matches)
        doc.add(ranked, row["sources"], doc_matches)
        if show or section.recall5[-1] < 1.0:
            gold = "; ".join(f"{s['doc']} / {s['section']}" for s in row["sources"])
            lines.append(f"{row['id']} r@5={section.recall5[-1]:.2f} {row['question']}\n    gold: {gold}")
            lines += [f"    {i}. {c.doc} / {c.section}" for i, c in enumerate(ranked[:5], 1)]
    r1, r5, mrr, n = section.row()
    d1, d5, dmrr, _ = doc.row()
    lines.append(
        f"n={n} section r@1 {r1:.3f} r@5 {r5:.3f} MRR {mrr:.3f} "
        f"| doc r@1 {d1:.3f} r@5 {d5:.3f} MRR {dmrr:.3f}"
    )
    return "\n".join(lines)


def main() -> None:
    show = "--all" in sys.argv
    embedder = build_embedder(Settings.from_env())
    with tempfile.TemporaryDirectory() as folder:
        index = LocalIndex(folder, embedder_name=embedder.name, dimension=embedder.dimension)
        ingest_path(CORPUS, embedder=embedder, index=index)
        for name, path in (("dev", None), ("held-out", HELDOUT)):
            questions = load_questions() if path is None else load_questions(path)
            print(f"## {name}\n{summary(index, embedder, questions, show)}\n")


if __name__ == "__main__":
    main()
