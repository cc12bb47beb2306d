"""Retrieval quality on the dev set: recall@1/@5 and MRR per question kind, for several embedders.

Every candidate indexes ``../shared/corpus/`` into its own fresh local index (same chunker, same fused
k-NN + BM25 search) and answers every dev question that has gold sources. Two levels are scored:

* doc level: a gold source is found when a retrieved chunk comes from its document;
* section level: ... from its document *and* its section, where a gold section (a heading as written)
  matches a chunk whose heading path contains it ("a section includes its subsections").

recall@k of a question = the share of its gold sources found in the top k (a comparison question has two);
MRR = 1 / rank of the first chunk matching any gold source. Run: ``python -m bench.retrieval.quality``.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from endurance.adapters.offline.local_index import LocalIndex
from endurance.domain.models import Chunk
from endurance.ingestion.ingest import ingest_path
from endurance.ports.providers import Embedder

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
QUESTIONS = ROOT.parent / "shared" / "eval" / "questions_dev.jsonl"
KINDS_WITH_SOURCES = ("fact", "comparison", "multi_hop")
DEPTH = 10


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [row for row in rows if row.get("sources")]


def section_matches(chunk: Chunk, source: dict[str, str]) -> bool:
    return chunk.doc == source["doc"] and source["section"] in chunk.section.split(" > ")


def doc_matches(chunk: Chunk, source: dict[str, str]) -> bool:
    return chunk.doc == source["doc"]


@dataclass
class Scores:
    recall1: list[float] = field(default_factory=list)
    recall5: list[float] = field(default_factory=list)
    mrr: list[float] = field(default_factory=list)

    def add(self, ranked: Sequence[Chunk], sources: list[dict[str, str]], match: Callable[..., bool]) -> None:
        def recall(k: int) -> float:
            top = ranked[:k]
            return sum(any(match(c, s) for c in top) for s in sources) / len(sources)

        self.recall1.append(recall(1))
        self.recall5.append(recall(5))
        rank = next((i for i, c in enumerate(ranked, 1) if any(match(c, s) for s in sources)), None)
        self.mrr.append(1.0 / rank if rank else 0.0)

    def row(self) -> tuple[float, float, float, int]:
        return (
            statistics.fmean(self.recall1),
            statistics.fmean(self.recall5),
            statistics.fmean(self.mrr),
            len(self.mrr),
        )


@dataclass
class CandidateResult:
    name: str
    chunks: int
    ingest_s: float
    query_ms: float
    by_kind: dict[tuple[str, str], Scores]  # (level, kind) -> scores


def evaluate(embedder: Embedder, questions: list[dict[str, Any]], corpus: Path = CORPUS) -> CandidateResult:
    with tempfile.TemporaryDirectory() as folder:
        index = LocalIndex(folder, embedder_name=embedder.name, dimension=embedder.dimension)
        began = time.perf_counter()
        ingest_path(corpus, embedder=embedder, index=index)
        ingest_s = time.perf_counter() - began
        by_kind: dict[tuple[str, str], Scores] = defaultdict(Scores)
        timings = []
        for row in questions:
            began = time.perf_counter()
            (vector,) = embedder.embed_queries([row["question"]])
            ranked = index.search(row["question"], vector, k=DEPTH)
            timings.append((time.perf_counter() - began) * 1000)
            kinds = [row["kind"], "all"]
            if row["kind"] in ("fact", "comparison"):
                kinds.append("fact+comparison")
            for kind in kinds:
                by_kind[("doc", kind)].add(ranked, row["sources"], doc_matches)
                by_kind[("section", kind)].add(ranked, row["sources"], section_matches)
        return CandidateResult(
            embedder.name, index.count(), ingest_s, statistics.median(timings), dict(by_kind)
        )


def markdown(results: list[CandidateResult]) -> str:
    lines = [
        "| embedder | level | kind | n | recall@1 | recall@5 | MRR |",
        "|---|---|---|---|---|---|---|",
    ]
    order = ["fact+comparison", "fact", "comparison", "multi_hop", "all"]
    for level in ("section", "doc"):
        for result in results:
            for kind in order:
                scores = result.by_kind.get((level, kind))
                if scores is None:
                    continue
                r1, r5, mrr, n = scores.row()
                lines.append(f"| {result.name} | {level} | {kind} | {n} | {r1:.3f} | {r5:.3f} | {mrr:.3f} |")
    lines += [
        "",
        "| embedder | chunks | ingest (corpus, s) | chunks/s | median query (embed + search, ms) |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        rate = result.chunks / result.ingest_s if result.ingest_s else float("nan")
        lines.append(
            f"| {result.name} | {result.chunks} | {result.ingest_s:.2f} | {rate:.0f} "
            f"| {result.query_ms:.1f} |"
        )
    return "\n".join(lines) + "\n"


def candidates() -> list[Embedder]:
    """Every offline embedder that can be built here (one that cannot is reported and skipped)."""
    from endurance.adapters.offline.hashing_embedder import HashingEmbedder

    built: list[Embedder] = []
    try:
        from endurance.adapters.offline.minilm_embedder import MiniLMEmbedder
        from endurance.adapters.offline.minilm_static_embedder import MiniLMStaticEmbedder

        built += [MiniLMStaticEmbedder(), MiniLMEmbedder()]
    except Exception as error:  # not installed: say so in the report rather than fail the others
        print(f"(all-MiniLM-L6-v2 not measured: {error})\n")
    return [*built, HashingEmbedder()]


def main() -> None:
    questions = load_questions()
    print(markdown([evaluate(embedder, questions) for embedder in candidates()]))


if __name__ == "__main__":
    main()
