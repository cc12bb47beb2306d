"""`endurance search`: query the local index directly (works with the local stack stopped: same files).

    endurance search "How long are audit logs kept?" [--k 5] [--state-dir D] [--json]
        -> [{"doc", "section", "chunk_id", "score", "text"}], best first
    endurance search --input questions.jsonl [--k 5] --json
        -> one line per input object {"id", "question"}: {"id", "results": [...]}

The embedder is the one configured by EMBEDDER (default ``minilm-static``), as for `endurance ingest`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from endurance_cli.output import CliError, ProgressBar, print_json

MAX_K = 50


def register(commands: argparse._SubParsersAction[Any]) -> None:
    search = commands.add_parser("search", help="search the local vector index (k-NN + BM25, fused)")
    search.add_argument("query", nargs="?", help="the question (or use --input)")
    search.add_argument("--input", type=Path, help='JSONL of {"id", "question"} objects: batch mode')
    search.add_argument("--k", type=int, default=5, help=f"results per query, 1 to {MAX_K} (default 5)")
    search.add_argument("--state-dir", type=Path, default=Path(".endurance"))
    search.add_argument("--json", action="store_true")
    search.set_defaults(run=_search)


def _search(args: argparse.Namespace) -> int:
    if not 1 <= args.k <= MAX_K:
        raise CliError(f"--k must be between 1 and {MAX_K}, got {args.k}", code="invalid_k")
    if args.input is not None and args.query is not None:
        raise CliError("give a query or --input, not both", code="invalid_arguments")
    if args.input is None and (args.query is None or not args.query.strip()):
        raise CliError("the query is empty: give a question, or --input questions.jsonl", code="empty_query")
    batch = _read_batch(args.input) if args.input is not None else None
    embedder, index = _open(args.state_dir)
    if batch is None:
        results = _run(embedder, index, args.query.strip(), args.k)
        if args.json:
            print_json(results)
        else:
            _print_text(results)
        return 0
    bar = ProgressBar("searching")
    try:
        for number, (item_id, question) in enumerate(batch, start=1):
            results = _run(embedder, index, question, args.k)
            if args.json:
                print_json({"id": item_id, "results": results})
            else:
                print(f"== {item_id}: {question}")
                _print_text(results)
            bar.update(number, len(batch), str(item_id))
    finally:
        bar.close()
    return 0


def _open(state_dir: Path) -> tuple[Any, Any]:
    from endurance.config import Settings
    from endurance.domain.errors import ConfigurationError
    from endurance.providers import build_embedder, build_vector_index

    try:
        settings = Settings.from_env().model_copy(
            update={
                "vector_store": "local",
                "local_index_dir": "",
                "local_runtime_state_dir": str(state_dir.resolve()),
            }
        )
        return build_embedder(settings), build_vector_index(settings)
    except ConfigurationError as error:
        raise CliError(str(error), code="configuration") from error


def _run(embedder: Any, index: Any, question: str, k: int) -> list[dict[str, Any]]:
    (vector,) = embedder.embed_queries([question])
    return [
        {"doc": c.doc, "section": c.section, "chunk_id": c.chunk_id, "score": c.score, "text": c.text}
        for c in index.search(question, vector, k=k)
    ]


def _read_batch(path: Path) -> list[tuple[Any, str]]:
    """Every line checked before any search runs, so a bad file fails fast with its line number."""
    if str(path) == "-":
        lines = sys.stdin.read().splitlines()
    elif not path.is_file():
        raise CliError(f"no such file: {path}", code="not_found")
    else:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as error:
            raise CliError(f"{path} is not UTF-8 text", code="invalid_input") from error
    batch = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as error:
            raise CliError(f"{path}:{number}: not valid JSON ({error})", code="invalid_input") from error
        if not isinstance(item, dict) or "id" not in item or not isinstance(item.get("question"), str):
            raise CliError(
                f'{path}:{number}: each line needs "id" and a string "question"', code="invalid_input"
            )
        if not item["question"].strip():
            raise CliError(f"{path}:{number}: the question is empty", code="empty_query")
        batch.append((item["id"], item["question"].strip()))
    if not batch:
        raise CliError(f"{path} has no questions", code="invalid_input")
    return batch


def _print_text(results: list[dict[str, Any]]) -> None:
    if not results:
        print("(no results: is the index empty? run `endurance ingest PATH`)")
    for rank, result in enumerate(results, start=1):
        snippet = " ".join(result["text"].split())[:160]
        print(f"{rank}. [{result['score']:.4f}] {result['doc']} — {result['section']}\n   {snippet}")
