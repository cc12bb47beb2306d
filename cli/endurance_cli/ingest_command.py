"""`endurance ingest PATH`: chunk, embed and index documents straight into the local index.

Exit codes: 0 all indexed, 1 some files failed (the others are indexed; each failure is listed), 2 bad usage.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from endurance_cli.output import CliError, ProgressBar, print_json


def register(commands: argparse._SubParsersAction[Any]) -> None:
    ingest = commands.add_parser("ingest", help="index a folder or a file into the local vector index")
    ingest.add_argument("path", type=Path)
    ingest.add_argument("--state-dir", type=Path, default=Path(".endurance"))
    ingest.add_argument("--if-empty", action="store_true", help="do nothing if the index already has chunks")
    ingest.add_argument("--json", action="store_true")
    ingest.set_defaults(run=_ingest)


def _ingest(args: argparse.Namespace) -> int:
    from endurance.config import Settings
    from endurance.ingestion.ingest import ingest_path
    from endurance.providers import build_embedder, build_vector_index

    if not args.path.exists():
        raise CliError(f"no such file or folder: {args.path}", code="not_found")
    from endurance.domain.errors import ConfigurationError

    # EMBEDDER (and its settings) from the environment, as `endurance search` and the stack read them.
    settings = Settings.from_env().model_copy(
        update={
            "vector_store": "local",
            "local_index_dir": "",
            "local_runtime_state_dir": str(args.state_dir.resolve()),
        }
    )
    try:
        embedder = build_embedder(settings)
        index = build_vector_index(settings)
    except ConfigurationError as error:
        raise CliError(str(error), code="configuration") from error
    if args.if_empty and index.count() > 0:
        summary = {"skipped": True, "reason": "index not empty", "chunks_in_index": index.count()}
        print_json(summary) if args.json else print(f"index already has {index.count()} chunks; skipped")
        return 0
    bar = ProgressBar("ingesting")
    try:
        results = ingest_path(args.path, embedder=embedder, index=index, progress=bar.update)
    finally:
        bar.close()
    failed = [r for r in results if r.status == "FAILED"]
    if args.json:
        print_json(
            {
                "documents": [r.__dict__ for r in results],
                "indexed": sum(1 for r in results if r.status == "INDEXED"),
                "failed": len(failed),
                "chunks_in_index": index.count(),
            }
        )
    else:
        for result in results:
            detail = f"{result.chunks} chunks" if result.status != "FAILED" else result.error
            print(f"{result.status:8} {result.doc}: {detail}")
        print(f"{index.count()} chunks in the index at {settings.index_dir()}")
    return 1 if failed else 0
