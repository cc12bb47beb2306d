"""Ragas' non-LLM metrics on the same cases, in the separate bench venv (bench/evaluation/requirements.txt).

Reads a JSON list of cases on stdin, writes one JSON object per case on stdout:
``{"id", "string_similarity", "rouge_precision", "context_recall", "context_relevance": [...], "ms"}``.

* string_similarity: NonLLMStringSimilarity(response=answer, reference=context), best context;
* rouge_precision: RougeScore(rougeL, precision) of the answer against the best context (share of the
  answer's words, in order, found in a context: a lexical groundedness proxy);
* context_recall: NonLLMContextRecall(retrieved_contexts=contexts, reference_contexts=answer sentences):
  the share of answer sentences some context matches (string similarity >= 0.5);
* context_relevance: RougeScore(rougeL, recall) of the question against each context.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
import warnings

warnings.filterwarnings("ignore")

from ragas.dataset_schema import SingleTurnSample  # noqa: E402
from ragas.metrics import NonLLMContextRecall, NonLLMStringSimilarity  # noqa: E402
from ragas.metrics._rouge_score import RougeScore  # noqa: E402


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9£$])", text.strip()) if s]


async def _score(case: dict) -> dict:
    started = time.perf_counter()
    similarity = NonLLMStringSimilarity()
    precision = RougeScore(rouge_type="rougeL", mode="precision")
    recall = RougeScore(rouge_type="rougeL", mode="recall")
    context_recall = NonLLMContextRecall()
    answer, question, contexts = case["answer"], case["question"], case["contexts"]
    sims, precs, rels = [], [], []
    for context in contexts:
        sample = SingleTurnSample(user_input=question, response=answer, reference=context)
        sims.append(await similarity.single_turn_ascore(sample))
        precs.append(await precision.single_turn_ascore(sample))
        question_sample = SingleTurnSample(user_input=question, response=question, reference=context)
        rels.append(await recall.single_turn_ascore(question_sample))
    recall_sample = SingleTurnSample(
        user_input=question, retrieved_contexts=contexts, reference_contexts=_sentences(answer) or [answer]
    )
    return {
        "id": case["id"],
        "string_similarity": max(sims),
        "rouge_precision": max(precs),
        "context_recall": await context_recall.single_turn_ascore(recall_sample),
        "context_relevance": rels,
        "ms": (time.perf_counter() - started) * 1000,
    }


def main() -> None:
    cases = json.load(sys.stdin)
    for case in cases:
        print(json.dumps(asyncio.run(_score(case))), flush=True)


if __name__ == "__main__":
    main()
