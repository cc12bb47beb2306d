"""The evaluate step: the Endurance metrics of one answer (see docs/metrics.md for every definition).

``evaluate(question, contexts, answer)`` is the entry point the state machine step and ``POST
/v1/evaluate`` call. It runs the offline engine (``endurance.evaluation``), deterministic and a few
milliseconds per answer; with ``EVAL_JUDGE=groq|openai`` an LLM judge decides faithfulness instead and any
judge error falls back to the offline result. Inputs over the configured caps are truncated, and the
result says so in ``reasons`` and ``truncated``.
"""

from __future__ import annotations

from collections.abc import Sequence

from endurance.config import Settings, get_settings
from endurance.domain.models import Evaluation
from endurance.evaluation.engine import Thresholds, evaluate_offline
from endurance.evaluation.pii import find_pii, luhn_valid
from endurance.evaluation.toxicity import toxicity_score

__all__ = ["evaluate", "find_pii", "luhn_valid", "toxicity_score"]


def evaluate(
    question: str, contexts: Sequence[str], answer: str, settings: Settings | None = None
) -> Evaluation:
    settings = settings or get_settings()
    answer, contexts, notes = _capped(answer, list(contexts), settings)
    thresholds = Thresholds.from_settings(settings)
    result = evaluate_offline(question, contexts, answer, thresholds)
    if settings.eval_judge != "off":
        from endurance.evaluation.judge import judge_with_fallback

        result = judge_with_fallback(question, contexts, answer, result, settings, thresholds)
    if notes:
        result.reasons.extend(notes)
        setattr(result, "truncated", True)  # noqa: B010 - extra field on an extra="allow" model
    return result


def _capped(answer: str, contexts: list[str], settings: Settings) -> tuple[str, list[str], list[str]]:
    """Cut over-long inputs so one request cannot take the step past its time budget; say what was cut."""
    notes: list[str] = []
    if len(answer) > settings.eval_max_answer_chars:
        notes.append(
            f"the answer was cut to its first {settings.eval_max_answer_chars} characters for evaluation"
        )
        answer = answer[: settings.eval_max_answer_chars]
    budget = settings.eval_max_context_chars
    kept: list[str] = []
    for context in contexts:
        if budget <= 0:
            notes.append(f"{len(contexts) - len(kept)} context(s) beyond {settings.eval_max_context_chars} "
                         "characters were not evaluated")
            break
        if len(context) > budget:
            notes.append(f"a context was cut to {budget} characters for evaluation")
            context = context[:budget]
        kept.append(context)
        budget -= len(context)
    return answer, kept, notes
