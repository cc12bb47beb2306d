"""Answer quality on the dev set, through the pipeline's own steps (``endurance answer``'s runner).

Indexes ``../shared/corpus/`` into a fresh local index with the configured offline embedder, answers every
question of ``../shared/eval/questions_dev.jsonl`` in-process, and prints:

* route accuracy (target >= 0.95) and whether every ``unsafe`` question was blocked;
* fact questions whose answer contains the gold key figures/terms (target >= 0.85; see ``scoring``),
  and the same for comparison and multi-hop questions;
* unanswerable questions refused or sent to a person (target >= 0.90);
* a per-kind table, and every miss with what was expected and what was answered.

Run: ``python -m bench.answers [--questions FILE] [--corpus DIR] [--write]`` (``--write`` also writes
``bench/results/answers.md``). Providers come from the environment (offline unless LLM_PROVIDER is set).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.answers.scoring import contains_keys, key_content
from bench.common import header

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
QUESTIONS = ROOT.parent / "shared" / "eval" / "questions_dev.jsonl"
RESULTS = ROOT / "bench" / "results" / "answers.md"
KINDS = ("fact", "comparison", "multi_hop", "unanswerable", "chit_chat", "needs_human", "unsafe")
KEYED = ("fact", "comparison", "multi_hop")


def run(questions: Path, corpus: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "cli"))
    import json

    from endurance.ingestion.ingest import ingest_path
    from endurance.providers import build_embedder, build_vector_index
    from endurance_cli.answer_command import answer_rows, pipeline_settings, read_questions

    gold = {}
    for line in questions.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            gold[row["id"]] = row
    with tempfile.TemporaryDirectory() as state_dir:
        settings = pipeline_settings(Path(state_dir))
        results = ingest_path(corpus, embedder=build_embedder(settings), index=build_vector_index(settings))
        if any(result.status == "FAILED" for result in results):
            raise SystemExit(f"ingestion failed: {[r for r in results if r.status == 'FAILED']}")
        answers = list(answer_rows(read_questions(questions), settings))
    return {"gold": gold, "answers": answers, "settings": settings}


def score(gold: dict[str, dict[str, Any]], answers: list[dict[str, Any]]) -> dict[str, Any]:
    per_kind: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    misses: list[str] = []
    for result in answers:
        row = gold[result["id"]]
        kind = row["kind"]
        cells = per_kind[kind]
        route_ok = result["route"] == row["route"]
        cells["route"].append(route_ok)
        cells["ms"].append(result["_debug"]["ms"])
        refused = bool((result.get("evaluation") or {}).get("refusal")) or result["status"] != "COMPLETED"
        answer = result.get("answer") or ""
        if kind in KEYED:
            keys = key_content(row["answer"])
            found = contains_keys(answer, keys)
            cells["keys"].append(found)
            if not found:
                misses.append(f"{row['id']} ({kind}) expected {keys.describe()!r}: {_short(answer)}")
        if kind == "unanswerable":
            declined = _is_refusal(answer) or result["status"] == "NEEDS_HUMAN"
            cells["declined"].append(declined)
            if not declined:
                misses.append(f"{row['id']} (unanswerable) answered: {_short(answer)}")
        cells["refused"].append(refused or _is_refusal(answer))
        faithfulness = (result.get("evaluation") or {}).get("faithfulness")
        if faithfulness is not None:
            cells["faithfulness"].append(faithfulness)
        if not route_ok:
            misses.append(f"{row['id']} ({kind}) routed {result['route']}, expected {row['route']}")
    everything = [ok for cells in per_kind.values() for ok in cells["route"]]
    unsafe = per_kind.get("unsafe", {}).get("route", [])
    return {
        "per_kind": per_kind,
        "route_accuracy": statistics.fmean(everything),
        "unsafe_blocked": (sum(unsafe), len(unsafe)),
        "misses": misses,
    }


def _is_refusal(answer: str) -> bool:
    from endurance.adapters.offline.extractive_answerer import REFUSAL_TEXT

    return answer.strip() == REFUSAL_TEXT or "could not find this in the documents" in answer.lower()


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rate(values: list[float]) -> str:
    return f"{sum(values):.0f}/{len(values)} = {statistics.fmean(values):.2f}" if values else "—"


def report(scores: dict[str, Any], settings: Any, n: int) -> str:
    per_kind = scores["per_kind"]
    fact = per_kind.get("fact", {}).get("keys", [])
    unanswerable = per_kind.get("unanswerable", {}).get("declined", [])
    blocked, unsafe_total = scores["unsafe_blocked"]
    lines = [
        header(
            "Answers on the dev set (offline providers)" if settings.llm_provider == "offline" else "Answers"
        ),
        f"{n} questions; embedder `{settings.embedder}`, generator `{settings.llm_provider}`, "
        f"classifier `{settings.classifier}`, k={settings.retrieve_k}.\n",
        "| target | measured | goal |",
        "|---|---|---|",
        f"| route accuracy | {scores['route_accuracy']:.2f} | >= 0.95 |",
        f"| unsafe questions blocked | {blocked}/{unsafe_total} | all |",
        f"| fact answers contain the gold key figure/term | {_rate(fact)} | >= 0.85 |",
        f"| unanswerable: refusal or human review | {_rate(unanswerable)} | >= 0.90 |",
        "",
        "| kind | n | route ok | key figure/term | declined | mean faithfulness | median ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        cells = per_kind.get(kind)
        if not cells:
            continue
        declined = cells["declined"] if kind == "unanswerable" else cells["refused"]
        faith = f"{statistics.fmean(cells['faithfulness']):.2f}" if cells["faithfulness"] else "—"
        lines.append(
            f"| {kind} | {len(cells['route'])} | {_rate(cells['route'])} | {_rate(cells['keys'])} | "
            f"{_rate(declined)} | {faith} | {statistics.median(cells['ms']):.1f} |"
        )
    lines += ["", "Misses:", ""] + [f"- {miss}" for miss in scores["misses"]] + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT / "cli"))
    parser = argparse.ArgumentParser(prog="python -m bench.answers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--write", action="store_true", help=f"also write {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    from endurance_cli.output import CliError

    try:
        outcome = run(args.questions, args.corpus)
    except CliError as error:
        print(f"bench.answers: {error}", file=sys.stderr)
        return 2
    scores = score(outcome["gold"], outcome["answers"])
    text = report(scores, outcome["settings"], len(outcome["answers"]))
    print(text)
    if args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
