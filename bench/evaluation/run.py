"""Benchmark of the metrics engine on ../shared/eval/eval_dev.jsonl, side by side with Ragas' non-LLM metrics.

    .venv/bin/python -m bench.evaluation.run [--dev PATH] [--out bench/results/evaluation.md] [--no-ragas]

Ragas runs in its own venv (bench/evaluation/requirements.txt; ENDURANCE_RAGAS_PYTHON or
build/bench-eval-venv/bin/python), in a subprocess, on the same cases in the same run. Ragas' scores are
continuous; each gets the threshold that maximises its balanced accuracy *on this dev set* (an oracle
advantage the engine's fixed thresholds do not get), and the table says so.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from endurance.config import Settings
from endurance.pipeline.evaluate import evaluate

from bench.common import header, percentile

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT.parent / "shared" / "eval" / "eval_dev.jsonl"
RAGAS_PYTHON = Path(
    os.environ.get("ENDURANCE_RAGAS_PYTHON", ROOT / "build" / "bench-eval-venv" / "bin" / "python")
)


def binary(pred: Sequence[bool], gold: Sequence[bool]) -> dict[str, float]:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
    tn = sum(not p and not g for p, g in zip(pred, gold, strict=True))
    recall = tp / (tp + fn) if tp + fn else float("nan")
    specificity = tn / (tn + fp) if tn + fp else float("nan")
    precision = tp / (tp + fp) if tp + fp else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "recall": recall,
        "specificity": specificity,
        "precision": precision,
        "f1": f1,
        "balanced_accuracy": (recall + specificity) / 2,
        "accuracy": (tp + tn) / len(gold) if gold else float("nan"),
    }


def best_threshold(scores: Sequence[float], gold: Sequence[bool], flag_below: bool) -> tuple[float, dict]:
    """The cut that maximises balanced accuracy (flag when score < t, or >= t)."""
    best: tuple[float, dict] | None = None
    for t in [*sorted(set(scores)), max(scores) + 1e-09]:
        pred = [(s < t) if flag_below else (s >= t) for s in scores]
        result = binary(pred, gold)
        if best is None or result["balanced_accuracy"] > best[1]["balanced_accuracy"]:
            best = (t, result)
    assert best is not None
    return best


def token_f1(predicted: Sequence[str], gold: Sequence[str]) -> float:
    """Token-level F1 between the predicted unsupported spans and the gold hallucinated spans."""

    def bag(spans: Sequence[str]) -> list[str]:
        return [t for s in spans for t in re.findall(r"[\w£$%.,'-]+", s.lower())]

    p, g = bag(predicted), bag(gold)
    if not p or not g:
        return 0.0
    remaining = list(g)
    hits = 0
    for token in p:
        if token in remaining:
            remaining.remove(token)
            hits += 1
    precision, recall = hits / len(p), hits / len(g)
    return 2 * precision * recall / (precision + recall) if hits else 0.0


def run_engine(rows: list[dict[str, Any]], settings: Settings) -> tuple[list[dict[str, Any]], list[float]]:
    for row in rows[:5]:  # warm caches (stemmer, regexes) like a warm Lambda
        evaluate(row["question"], row["contexts"], row["answer"], settings)
    results, latencies = [], []
    for row in rows:
        started = time.perf_counter()
        result = evaluate(row["question"], row["contexts"], row["answer"], settings)
        latencies.append((time.perf_counter() - started) * 1000)
        results.append(result.model_dump(mode="json"))
    return results, latencies


def run_ragas(rows: list[dict[str, Any]]) -> list[dict[str, Any]] | str:
    if not RAGAS_PYTHON.exists():
        return f"not installed ({RAGAS_PYTHON} missing; see bench/evaluation/requirements.txt)"
    cases = [{k: row[k] for k in ("id", "question", "contexts", "answer")} for row in rows]
    completed = subprocess.run(
        [str(RAGAS_PYTHON), str(Path(__file__).with_name("ragas_side.py"))],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        env={**os.environ, "OPENAI_API_KEY": "", "RAGAS_DO_NOT_TRACK": "true"},
    )
    if completed.returncode != 0:
        return "failed: " + completed.stderr.strip().splitlines()[-1][:200] if completed.stderr else "failed"
    return [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]


def fmt(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"  # NaN check without math import


def report(
    rows: list[dict[str, Any]],
    results: list[dict[str, Any]],
    latencies: list[float],
    ragas: list[dict[str, Any]] | str,
    settings: Settings,
) -> str:
    labels = [row["labels"] for row in rows]
    gold_hall = [not lab["faithful"] for lab in labels]
    hall = binary([r["hallucination"] for r in results], gold_hall)
    span_f1 = [
        token_f1(r["unsupported_spans"], lab["hallucinated_spans"])
        for r, lab in zip(results, labels, strict=True)
        if not lab["faithful"]
    ]
    span_caught = [
        token_f1(r["unsupported_spans"], lab["hallucinated_spans"])
        for r, lab in zip(results, labels, strict=True)
        if not lab["faithful"] and r["hallucination"]
    ]
    answer_rel = binary(
        [r["answer_relevance"] < settings.eval_answer_relevance_threshold for r in results],
        [not lab["answer_relevant"] for lab in labels],
    )
    ctx_pred = [
        s >= settings.eval_context_relevance_threshold for r in results for s in r["context_relevance"]
    ]
    ctx_gold = [g for lab in labels for g in lab["contexts_relevant"]]
    ctx_rel = binary(ctx_pred, ctx_gold)
    refusal = binary([r["refusal"] for r in results], [lab["is_refusal"] for lab in labels])
    refused = [(r, lab) for r, lab in zip(results, labels, strict=True) if lab["is_refusal"]]
    refusal_correct_acc = (
        (sum(r["refusal_correct"] == lab["refusal_correct"] for r, lab in refused) / len(refused))
        if refused
        else float("nan")
    )
    pii = binary([bool(r["pii"]) for r in results], [lab["contains_pii"] for lab in labels])
    toxic = binary([r["toxic"] for r in results], [lab["toxic"] for lab in labels])

    lines = [header("Evaluation engine (offline) on the dev set"), ""]
    lines.append(
        f"Cases: {len(rows)} from `../shared/eval/eval_dev.jsonl` ({sum(gold_hall)} unfaithful, "
        f"{len(rows) - sum(gold_hall)} faithful). Thresholds: the defaults in `endurance.config` "
        "(calibrated on this dev set only). Command: `.venv/bin/python -m bench.evaluation.run`.\n"
    )
    lines += [
        "| metric | value | target |",
        "|---|---|---|",
        f"| hallucination flag balanced accuracy | **{fmt(hall['balanced_accuracy'])}** | >= 0.85 |",
        f"| hallucination flag F1 / precision / recall | {fmt(hall['f1'])} / {fmt(hall['precision'])} / "
        f"{fmt(hall['recall'])} | |",
        f"| hallucination flag accuracy (TP {hall['tp']}, FP {hall['fp']}, FN {hall['fn']}, TN {hall['tn']}) "
        f"| {fmt(hall['accuracy'])} | |",
        f"| span overlap: token F1 vs gold spans, all unfaithful / flagged ones | "
        f"{fmt(sum(span_f1) / len(span_f1))} / {fmt(sum(span_caught) / max(1, len(span_caught)))} | |",
        f"| answer relevance agreement (accuracy / balanced acc., irrelevant = positive) | "
        f"{fmt(answer_rel['accuracy'])} / {fmt(answer_rel['balanced_accuracy'])} | |",
        f"| context relevance agreement, per context (accuracy / balanced acc.) | "
        f"{fmt(ctx_rel['accuracy'])} / {fmt(ctx_rel['balanced_accuracy'])} | |",
        f"| refusal detection accuracy | {fmt(refusal['accuracy'])} | |",
        f"| refusal-correctness accuracy (on the {len(refused)} refusals) | **{fmt(refusal_correct_acc)}** "
        "| >= 0.90 |",
        f"| PII recall / precision | **{fmt(pii['recall'])}** / {fmt(pii['precision'])} | recall 1.00 |",
        f"| toxicity recall / precision | **{fmt(toxic['recall'])}** / {fmt(toxic['precision'])} "
        "| recall >= 0.90 |",
        f"| latency per answer p50 / p95 / max | {percentile(latencies, 50):.1f} / "
        f"**{percentile(latencies, 95):.1f}** / {max(latencies):.1f} ms | p95 <= 50 ms |",
        "",
    ]

    lines += ["### Hallucination flag by type", "", "| type | cases | caught (recall) |", "|---|---|---|"]
    by_type: dict[str, list[bool]] = {}
    for r, lab in zip(results, labels, strict=True):
        kind = lab["hallucination_type"] or "none (faithful: correct = not flagged)"
        by_type.setdefault(kind, []).append(
            r["hallucination"] != lab["faithful"] if lab["faithful"] is False else not r["hallucination"]
        )
    for kind, hits in sorted(by_type.items()):
        lines.append(f"| {kind} | {len(hits)} | {sum(hits)} ({sum(hits) / len(hits):.2f}) |")
    missed = [
        (
            row["id"],
            lab["hallucination_type"],
            lab["hallucinated_spans"][0] if lab["hallucinated_spans"] else "",
        )
        for row, r, lab in zip(rows, results, labels, strict=True)
        if not lab["faithful"] and not r["hallucination"]
    ]
    wrong = [
        (row["id"], "; ".join(i["reason"] for i in r.get("issues", []))[:140])
        for row, r, lab in zip(rows, results, labels, strict=True)
        if lab["faithful"] and r["hallucination"]
    ]
    lines += [
        "",
        "Missed (unfaithful, not flagged): " + ", ".join(f'{i} ({t}: "{s}")' for i, t, s in missed),
        "",
        "False alarms (faithful, flagged): " + (", ".join(f"{i} ({why})" for i, why in wrong) or "none"),
        "",
    ]

    lines += ["### Side by side with Ragas (non-LLM metrics), same cases, same run", ""]
    if isinstance(ragas, str):
        lines.append(f"Ragas: {ragas}.")
    else:
        by_id = {r["id"]: r for r in ragas}
        ordered = [by_id[row["id"]] for row in rows]
        lines += [
            "| hallucination flag from | threshold | balanced acc. | F1 | note |",
            "|---|---|---|---|---|",
            f"| **Endurance engine** | fixed | **{fmt(hall['balanced_accuracy'])}** | {fmt(hall['f1'])} "
            "| thresholds from settings |",
        ]
        for name, label in (
            ("string_similarity", "Ragas NonLLMStringSimilarity (answer vs best context)"),
            ("rouge_precision", "Ragas RougeScore rougeL precision (answer vs best context)"),
            ("context_recall", "Ragas NonLLMContextRecall (answer sentences found in contexts)"),
        ):
            t, res = best_threshold([o[name] for o in ordered], gold_hall, flag_below=True)
            lines.append(
                f"| {label} | < {t:.3f} (oracle) | {fmt(res['balanced_accuracy'])} | {fmt(res['f1'])} "
                "| best cut on this set |"
            )
        ragas_ctx = [s for o in ordered for s in o["context_relevance"]]
        t, res = best_threshold(ragas_ctx, ctx_gold, flag_below=False)
        lines += [
            "",
            "| context relevance from | balanced acc. | accuracy |",
            "|---|---|---|",
            f"| **Endurance engine** | **{fmt(ctx_rel['balanced_accuracy'])}** | "
            f"{fmt(ctx_rel['accuracy'])} |",
            f"| Ragas RougeScore rougeL recall (question vs context), oracle cut >= {t:.3f} | "
            f"{fmt(res['balanced_accuracy'])} | {fmt(res['accuracy'])} |",
            "",
            "Ragas has no non-LLM metric for answer relevance, refusals, PII or toxicity.",
            f"Ragas latency per case (3 metrics, all contexts): p50 "
            f"{percentile([o['ms'] for o in ordered], 50):.1f} ms, p95 "
            f"{percentile([o['ms'] for o in ordered], 95):.1f} ms.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None, run_ragas_fn: Callable[..., Any] = run_ragas) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dev", type=Path, default=DEV)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "evaluation.md")
    parser.add_argument("--no-ragas", action="store_true")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in args.dev.read_text().splitlines() if line.strip()]
    settings = Settings()
    results, latencies = run_engine(rows, settings)
    ragas = "skipped (--no-ragas)" if args.no_ragas else run_ragas_fn(rows)
    text = report(rows, results, latencies, ragas, settings)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
