"""Retrieval benchmarks: quality on the dev set per embedder, and the index speed harness.

.venv/bin/python -m bench retrieval            # both; writes bench/results/retrieval.md
.venv/bin/python -m bench.retrieval.quality    # quality only
.venv/bin/python -m bench.retrieval.speed      # speed only (FAISS/Chroma in build/bench-retrieval-venv)
"""

from __future__ import annotations


def main() -> None:
    from bench.common import header
    from bench.retrieval import quality, speed

    print(header("Retrieval"))
    print("### Quality (dev set, ../shared/eval/questions_dev.jsonl over ../shared/corpus)\n")
    quality.main()
    print("### Speed (synthetic chunks)\n")
    speed.main([])
