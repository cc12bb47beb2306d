"""Routing with an LLM (structured JSON output), always backed by the offline rules.

The rules run first and their ``blocked`` is final: a model must never talk the router out of blocking an
injection. Otherwise the model's route is used when its reply is a valid classification; on any provider
error or unreadable reply the rules' answer stands, so classification never fails because a provider did.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from pydantic import ValidationError

from endurance.adapters.llm.chat import ChatModel
from endurance.domain.errors import EnduranceError
from endurance.domain.models import Classification, Route
from endurance.prompts import get_prompt, render

logger = logging.getLogger(__name__)


class LlmClassifier:
    def __init__(
        self,
        chat: ChatModel,
        *,
        offline: Callable[[str], Classification],
        prompt_version: str | None = None,
    ) -> None:
        self.chat = chat
        self.offline = offline
        self.prompt = get_prompt("classify", prompt_version)

    def __call__(self, question: str) -> Classification:
        rules = self.offline(question)
        if rules.route is Route.BLOCKED:
            return rules
        try:
            completion = self.chat.complete(
                render(self.prompt, question=question), json_mode=True, max_tokens=120
            )
            proposed = parse_classification(completion.text)
        except (EnduranceError, ValueError) as error:
            logger.warning(
                "llm classification unavailable, using the rules", extra={"error": type(error).__name__}
            )
            return rules
        return proposed.model_copy(update={"reason": f"{proposed.reason} (llm)"})


def parse_classification(text: str) -> Classification:
    """The JSON object in ``text`` (models sometimes wrap it in prose or a code fence) as a Classification."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("no JSON object in the reply")
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError as error:
        raise ValueError(f"malformed JSON: {error}") from error
    if not isinstance(data, dict):
        raise ValueError("the reply is not a JSON object")
    data.setdefault("confidence", 0.7)
    data["reason"] = str(data.get("reason") or "classified by the language model")[:200]
    try:
        return Classification.model_validate(data)
    except ValidationError as error:
        raise ValueError(f"not a classification: {error.error_count()} error(s)") from error
