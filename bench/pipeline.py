"""End-to-end latency of chat jobs on the local stack (offline providers), split by step.

Run: .venv/bin/python -m bench.pipeline [N]  (N=20 dev questions by default; bench/results/pipeline.md)
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import httpx
from endurance.config import Settings
from endurance.ingestion.ingest import ingest_path
from endurance.providers import build_embedder, build_vector_index
from endurance_local.runtime import LocalStack, LocalStackConfig

from bench.common import free_port, header, percentile

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT.parent / "shared" / "eval" / "questions_dev.jsonl"
TERMINAL = {"COMPLETED", "NEEDS_HUMAN", "BLOCKED", "FAILED"}


def _questions(n: int) -> list[str]:
    if QUESTIONS.exists():
        rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
        picked = [r["question"] for r in rows if r["kind"] in {"fact", "comparison"}]
    else:
        picked = ["Within what time must an AI incident be reported, and to whom?"]
    return (picked * (n // len(picked) + 1))[:n]


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def main(n: int = 20) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(vector_store="local", local_runtime_state_dir=tmp)
        ingest_path(
            ROOT / "samples" / "documents",
            embedder=build_embedder(settings),
            index=build_vector_index(settings),
        )
        config = LocalStackConfig(
            template=ROOT / "template.yaml",
            api_port=free_port(),
            aws_port=free_port(),
            state_dir=Path(tmp),
            parameter_overrides={"VectorStore": "local", "Embedder": "hashing", "LlmProvider": "offline"},
        )
        totals: list[float] = []
        to_first_step: list[float] = []
        steps: dict[str, list[float]] = defaultdict(list)
        walls: dict[str, list[float]] = defaultdict(list)
        with LocalStack(config, log=lambda _m: None) as stack, httpx.Client(base_url=stack.api_url) as client:
            client.post("/v1/chat", json={"question": "hello"})  # warm every worker once
            time.sleep(3)
            for question in _questions(n):
                began = time.perf_counter()
                job_id = client.post("/v1/chat", json={"question": question}).json()["job_id"]
                while True:
                    job = client.get(f"/v1/jobs/{job_id}").json()
                    if job["status"] in TERMINAL:
                        break
                    time.sleep(0.01)
                totals.append((time.perf_counter() - began) * 1000)
                for step in job["steps"]:
                    steps[step["name"]].append(step["ms"] or 0.0)
                starts = [(_ts(s["started_at"]), s["name"]) for s in job["steps"]]
                starts.sort()
                for (start, name), (following, _next) in itertools.pairwise(starts):
                    walls[name].append((following - start) * 1000)
                first = starts[0][0]
                to_first_step.append((first - _ts(job["created_at"])) * 1000)
    print(header(f"Chat job latency on the local stack, {n} dev questions, offline providers"))
    print(
        f"- end to end (POST /v1/chat -> terminal status seen by polling every 10 ms): "
        f"median {statistics.median(totals):.0f} ms, p95 {percentile(totals, 95):.0f} ms"
    )
    print(
        f"- accepted -> first step started (API, intake queue poll, dispatch, StartExecution): "
        f"median {statistics.median(to_first_step):.0f} ms"
    )
    print(
        "- the step's own work (inside the Lambda, without its job-record writes and events), median:"
    )
    for name, values in steps.items():
        print(f"  - {name}: {statistics.median(values):.1f} ms")
    print(
        "- wall time from a step's start to the next step's start (the step's work, its bookkeeping "
        "writes and events, the invoke round trip and the state transition), median:"
    )
    for name, values in walls.items():
        print(f"  - {name}: {statistics.median(values):.0f} ms")
    inside = sum(statistics.median(v) for v in steps.values())
    print(
        f"- sum of step medians {inside:.0f} ms; the rest is queueing, the state machine's transitions and "
        "the Lambda invoke round trips"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
