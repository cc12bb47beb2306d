"""Optional LLM judge for faithfulness (EVAL_JUDGE=groq|openai), with structured output.

The judge gets the contexts, question and answer, and must reply with JSON ``{"faithful": bool,
"unsupported_spans": [exact answer substrings], "reason": str}`` (``response_format`` JSON schema). Its
verdict replaces the offline faithfulness, hallucination flag and spans; every other metric stays offline.
Any error (no key, SDK missing, timeout, HTTP error, malformed or off-schema reply) falls back to the
offline result, recorded as ``judge: {"status": "fallback", "error": ...}``. Token use and cost are recorded.
SDKs are imported lazily: the offline path never loads them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from typing import Any

from endurance.config import Settings
from endurance.domain.models import Evaluation
from endurance.evaluation.engine import Thresholds

DEFAULT_MODELS = {"groq": "llama-3.3-70b-versatile", "openai": "gpt-4o-mini"}
# USD per million tokens (input, output); unknown models are recorded with cost 0 and "price unknown".
PRICES = {
    "llama-3.3-70b-versatile": (0.59, 0.79),
    "llama-3.1-8b-instant": (0.05, 0.08),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
}
_SCHEMA = {
    "name": "faithfulness_verdict",
    "strict": True,
    "schema": {
        "type": "object",
        "additionalProperties": False,
        "required": ["faithful", "unsupported_spans", "reason"],
        "properties": {
            "faithful": {"type": "boolean"},
            "unsupported_spans": {"type": "array", "items": {"type": "string"}},
            "reason": {"type": "string"},
        },
    },
}
_INSTRUCTIONS = (
    "You check whether an answer is faithful to the given contexts. An answer is unfaithful if any claim "
    "in it is not supported by, or contradicts, the contexts: a changed number, date or name, a flipped "
    "negation, an unsupported addition or an overgeneralisation. Arithmetic on figures from the contexts "
    "or the question is allowed. Reply with JSON only: {\"faithful\": bool, \"unsupported_spans\": [exact "
    "substrings of the answer that are unsupported], \"reason\": short string}."
)


class JudgeError(Exception):
    """The judge could not give a usable verdict (the caller falls back to offline)."""


def judge_with_fallback(question: str, contexts: Sequence[str], answer: str, offline: Evaluation,
                        settings: Settings, thresholds: Thresholds) -> Evaluation:
    started = time.perf_counter()
    provider = settings.eval_judge
    model = settings.eval_judge_model or DEFAULT_MODELS.get(provider, "")
    try:
        verdict, usage = _ask(provider, model, question, contexts, answer, settings)
    except Exception as error:
        record = {"status": "fallback", "provider": provider, "model": model,
                  "error": f"{type(error).__name__}: {str(error)[:200]}", "cost_usd": 0.0,
                  "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
        result = offline.model_copy(deep=True)
        setattr(result, "judge", record)  # noqa: B010
        result.reasons.append("LLM judge unavailable; offline metrics used")
        return result
    return _merge(offline, verdict, usage, provider, model, answer, started, thresholds)


def _ask(provider: str, model: str, question: str, contexts: Sequence[str], answer: str,
         settings: Settings) -> tuple[dict[str, Any], dict[str, int]]:
    client = _client(provider, settings)
    numbered = "\n\n".join(f"[{i}] {c}" for i, c in enumerate(contexts, start=1))
    response = client.chat.completions.create(
        model=model,
        temperature=0,
        response_format={"type": "json_schema", "json_schema": _SCHEMA},
        messages=[
            {"role": "system", "content": _INSTRUCTIONS},
            {"role": "user", "content": f"Contexts:\n{numbered}\n\nQuestion: {question}\n\nAnswer: {answer}"},
        ],
    )
    try:
        content = response.choices[0].message.content or ""
        verdict = json.loads(content)
    except (AttributeError, IndexError, TypeError, json.JSONDecodeError) as error:
        raise JudgeError(f"the judge reply is not JSON: {error}") from error
    if not isinstance(verdict, dict) or not isinstance(verdict.get("faithful"), bool):
        raise JudgeError("the judge reply lacks a boolean 'faithful'")
    spans = verdict.get("unsupported_spans", [])
    if not isinstance(spans, list) or not all(isinstance(s, str) for s in spans):
        raise JudgeError("the judge reply's 'unsupported_spans' is not a list of strings")
    usage = getattr(response, "usage", None)
    tokens = {"tokens_in": int(getattr(usage, "prompt_tokens", 0) or 0),
              "tokens_out": int(getattr(usage, "completion_tokens", 0) or 0)}
    return verdict, tokens


def _client(provider: str, settings: Settings) -> Any:
    timeout = settings.eval_judge_timeout_s
    base_url = settings.eval_judge_base_url or None
    if provider == "groq":
        key = os.environ.get("GROQ_API_KEY", "")
        if not key:
            raise JudgeError("GROQ_API_KEY is not set")
        from groq import Groq

        return Groq(api_key=key, base_url=base_url, timeout=timeout, max_retries=1)
    if provider == "openai":
        key = os.environ.get("OPENAI_API_KEY", "")
        if not key:
            raise JudgeError("OPENAI_API_KEY is not set")
        from openai import OpenAI

        return OpenAI(api_key=key, base_url=base_url, timeout=timeout, max_retries=1)
    raise JudgeError(f"unknown judge provider {provider!r}")


def _merge(offline: Evaluation, verdict: dict[str, Any], usage: dict[str, int], provider: str, model: str,
           answer: str, started: float, thresholds: Thresholds) -> Evaluation:
    result = offline.model_copy(deep=True)
    spans = [s for s in verdict.get("unsupported_spans", []) if s and s in answer]
    faithful = bool(verdict["faithful"])
    result.hallucination = not faithful
    result.unsupported_spans = [] if faithful else spans
    if faithful:
        result.faithfulness = 1.0
    else:
        from endurance.evaluation.spans import sentences

        every = sentences(answer)
        flagged = [s for s in every if any(span in s.text or s.text in span for span in spans)]
        result.faithfulness = round(1 - max(1, len(flagged)) / max(1, len(every)), 4)
    price = PRICES.get(model)
    cost = (usage["tokens_in"] * price[0] + usage["tokens_out"] * price[1]) / 1e6 if price else 0.0
    record = {"status": "ok", "provider": provider, "model": model, **usage, "cost_usd": round(cost, 6),
              "price_known": price is not None, "reason": str(verdict.get("reason", ""))[:500],
              "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
    setattr(result, "judge", record)  # noqa: B010
    setattr(result, "mode", "llm-judge")  # noqa: B010
    result.reasons = [r for r in result.reasons if not r.startswith(("faithfulness ", "number:", "date:",
                                                                     "entity:", "negation:", "quantifier:",
                                                                     "unsupported:"))]
    if not faithful:
        result.reasons.append(f"LLM judge: unfaithful \u2014 {record['reason']}")
    if result.hallucination or result.toxic or result.pii or result.refusal_correct is False:
        result.verdict = "fail"
    elif result.verdict == "fail":
        low = result.answer_relevance is not None and result.answer_relevance < thresholds.answer_relevance
        result.verdict = "warn" if low else "pass"
    return result
