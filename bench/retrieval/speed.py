"""Speed of the local index at 10k and 100k chunks, side by side with FAISS and Chroma on the same vectors.

Vectors are synthetic but clustered like real embeddings (2,000 topic centres in the default embedder's
dimension, each chunk = centre + noise, unit length); queries are fresh draws around the same centres.
Ground truth is exact cosine top-10 (numpy brute force). Each engine runs in its own process (so its
memory is its own) on the same ``.npy`` files:

* ``local``: our ``LocalIndex`` (IVF above 20k chunks), k-NN only and the full fused k-NN + BM25 search
  (chunks carry synthetic text for BM25);
* ``faiss-flat`` (exact) and ``faiss-hnsw`` (M=32, efSearch=64), ``faiss-cpu``;
* ``chroma``: ``chromadb`` in-process (HNSW, cosine), if it installs.

FAISS and Chroma run from ``build/bench-retrieval-venv`` (made on first run: ``pip install numpy faiss-cpu
chromadb``) so their dependencies never touch the project's environment.
Run: ``python -m bench.retrieval.speed [--dimension 384] [--engines local,faiss-flat,faiss-hnsw,chroma]``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SIDE_VENV = ROOT / "build" / "bench-retrieval-venv"
SIZES = (10_000, 100_000)
QUERIES = 300
K = 10
CENTRES = 2000
DIMENSION = 384  # the default (minilm-static) embedder's; hashing's is 512 (--dimension 512)
WORDS = [f"w{i}" for i in range(20_000)]


def make_data(folder: Path, n: int, dimension: int = DIMENSION, seed: int = 7) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CENTRES, dimension)).astype(np.float32)

    def draw(count: int) -> Any:
        picks = rng.integers(0, CENTRES, count)
        points = centres[picks] + 0.9 * rng.standard_normal((count, dimension)).astype(np.float32)
        return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32), picks

    vectors, picks = draw(n)
    queries, query_picks = draw(QUERIES)
    np.save(folder / "vectors.npy", vectors)
    np.save(folder / "queries.npy", queries)
    exact = []
    for i in range(0, QUERIES, 50):
        scores = queries[i : i + 50] @ vectors.T
        top = np.argsort(-scores, axis=1)[:, :K]
        exact.extend(top.tolist())
    (folder / "exact.json").write_text(json.dumps(exact))
    # Zipf-like synthetic words per chunk; each topic prefers its own slice of the vocabulary.
    texts = []
    for pick in picks.tolist():
        own = rng.integers(pick * 10, pick * 10 + 10, 8)
        common = rng.zipf(1.3, 40) % len(WORDS)
        texts.append(" ".join(WORDS[i % len(WORDS)] for i in [*own.tolist(), *common.tolist()]))
    (folder / "texts.json").write_text(json.dumps(texts))
    words = [" ".join(WORDS[(p * 10 + j) % len(WORDS)] for j in range(3)) for p in query_picks.tolist()]
    (folder / "query_texts.json").write_text(json.dumps(words))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _latencies(run: Any, queries: Any) -> tuple[list[float], list[list[int]]]:
    times, found = [], []
    for query in queries:
        began = time.perf_counter()
        rows = run(query)
        times.append((time.perf_counter() - began) * 1000)
        found.append(rows)
    return times, found


def _recall(found: list[list[int]], exact: list[list[int]]) -> float:
    return statistics.fmean(len(set(f[:K]) & set(e)) / K for f, e in zip(found, exact, strict=True))


def _report(engine: str, n: int, build_s: float, memory_mb: float, times: list[float], recall: float) -> dict:
    ordered = sorted(times)
    return {
        "engine": engine,
        "n": n,
        "build_s": round(build_s, 2),
        "memory_mb": round(memory_mb, 1),
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
        "recall_at_10": round(recall, 4),
    }


def run_local(folder: Path, n: int) -> list[dict]:
    import numpy as np
    from endurance.adapters.offline.local_index import LocalIndex
    from endurance.domain.models import Chunk

    vectors = np.load(folder / "vectors.npy")
    queries = np.load(folder / "queries.npy")
    texts = json.loads((folder / "texts.json").read_text())
    query_texts = json.loads((folder / "query_texts.json").read_text())
    exact = json.loads((folder / "exact.json").read_text())
    chunks = [
        Chunk(chunk_id=f"c{i}", doc=f"doc{i // 20}.md", section=f"{i % 20}. Section", text=text)
        for i, text in enumerate(texts)
    ]
    before = _rss_mb()
    with tempfile.TemporaryDirectory() as index_dir:
        began = time.perf_counter()
        index = LocalIndex(index_dir, embedder_name="synthetic", dimension=vectors.shape[1])
        index.upsert(chunks, vectors)
        build_s = time.perf_counter() - began
        del index  # what a second process (the stack) holds: the reader's copy only
        began = time.perf_counter()
        reader = LocalIndex(index_dir, embedder_name="synthetic", dimension=vectors.shape[1])
        load_s = time.perf_counter() - began
        memory = _rss_mb() - before

        def knn(query: Any) -> list[int]:
            return [int(cid[1:]) for cid, _ in reader.knn(query, K)]

        knn(queries[0])
        times, found = _latencies(knn, queries)
        rows = [_report("local (k-NN)", n, build_s, memory, times, _recall(found, exact))]
        reader.search(query_texts[0], queries[0], k=K)  # builds the BM25 postings once
        hybrid_times = []
        for query, words in zip(queries, query_texts, strict=True):
            began = time.perf_counter()
            reader.search(words, query, k=K)
            hybrid_times.append((time.perf_counter() - began) * 1000)
        hybrid = _report("local (k-NN + BM25, RRF)", n, build_s, memory, hybrid_times, float("nan"))
        hybrid["note"] = f"open from disk {load_s:.2f} s; BM25 postings built on first query"
        rows.append(hybrid)
        return rows


def run_faiss(folder: Path, n: int) -> list[dict]:
    import faiss
    import numpy as np

    faiss.omp_set_num_threads(1)  # single-query latency, as the local index measures it
    vectors = np.load(folder / "vectors.npy")
    queries = np.load(folder / "queries.npy")
    exact = json.loads((folder / "exact.json").read_text())
    rows = []
    for name, factory in (("faiss-flat", "Flat"), ("faiss-hnsw", "HNSW32")):
        before = _rss_mb()
        began = time.perf_counter()
        index = faiss.index_factory(vectors.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
        index.add(vectors)
        build_s = time.perf_counter() - began
        if name == "faiss-hnsw":
            index.hnsw.efSearch = 64

        def search(query: Any, index: Any = index) -> list[int]:
            return index.search(query[None, :], K)[1][0].tolist()

        times, found = _latencies(search, queries)
        rows.append(_report(name, n, build_s, _rss_mb() - before, times, _recall(found, exact)))
    return rows


def run_chroma(folder: Path, n: int) -> list[dict]:
    import chromadb
    import numpy as np

    vectors = np.load(folder / "vectors.npy")
    queries = np.load(folder / "queries.npy")
    exact = json.loads((folder / "exact.json").read_text())
    before = _rss_mb()
    began = time.perf_counter()
    client = chromadb.EphemeralClient()
    collection = client.create_collection("bench", metadata={"hnsw:space": "cosine"}, embedding_function=None)
    for start in range(0, len(vectors), 5000):
        part = vectors[start : start + 5000]
        collection.add(ids=[str(i) for i in range(start, start + len(part))], embeddings=part.tolist())
    build_s = time.perf_counter() - began

    def search(query: Any) -> list[int]:
        result = collection.query(query_embeddings=[query.tolist()], n_results=K)
        return [int(i) for i in result["ids"][0]]

    times, found = _latencies(search, queries)
    return [_report("chroma", n, build_s, _rss_mb() - before, times, _recall(found, exact))]


ENGINES = {"local": run_local, "faiss": run_faiss, "chroma": run_chroma}


def _side_python() -> Path | None:
    python = SIDE_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(SIDE_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "numpy", "faiss-cpu"], check=False)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "chromadb"], check=False)
    return python if python.exists() else None


def _run_engine(python: Path, engine: str, folder: Path, n: int) -> list[dict] | str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "core")])}
    done = subprocess.run(
        [str(python), "-m", "bench.retrieval.speed", "--engine", engine, str(folder), str(n)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=1800,
    )
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["failed"])[-1]
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.retrieval.speed")
    parser.add_argument("--dimension", type=int, default=DIMENSION)
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset of the engines")
    args = parser.parse_args(argv)
    engines = [name for name in args.engines.split(",") if name]
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown:
        parser.error(f"unknown engines {unknown}; choose from {sorted(ENGINES)}")
    side = _side_python() if set(engines) - {"local"} else None
    rows: list[dict] = []
    skipped: list[str] = []
    for n in SIZES:
        with tempfile.TemporaryDirectory() as folder:
            make_data(Path(folder), n, args.dimension)
            for engine in engines:
                python = Path(sys.executable) if engine == "local" else side
                if python is None:
                    skipped.append(f"{engine}: no side venv")
                    continue
                result = _run_engine(python, engine, Path(folder), n)
                if isinstance(result, str):
                    skipped.append(f"{engine} at {n}: {result}")
                else:
                    rows.extend(result)
    print(f"{QUERIES} queries, k={K}, {args.dimension} dimensions, {CENTRES} clusters, one query at a time.")
    print()
    print("| engine | chunks | build (s) | memory (MB) | p50 (ms) | p95 (ms) | recall@10 vs exact | note |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        recall = "—" if row["recall_at_10"] != row["recall_at_10"] else f"{row['recall_at_10']:.3f}"
        print(
            f"| {row['engine']} | {row['n']:,} | {row['build_s']} | {row['memory_mb']} | {row['p50_ms']} | "
            f"{row['p95_ms']} | {recall} | {row.get('note', '')} |"
        )
    for line in skipped:
        print(f"\nnot measured: {line}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--engine":
        engine, folder, n = sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(ENGINES[engine](folder, n)))
    else:
        main()
