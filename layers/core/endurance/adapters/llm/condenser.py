"""Follow-up rewriting with an LLM (the condense prompt), backed by the deterministic rule."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from endurance.adapters.llm.chat import ChatModel
from endurance.domain.errors import EnduranceError
from endurance.prompts import get_prompt, render

logger = logging.getLogger(__name__)

# (question, previous turns as (question, answer) pairs, oldest first) -> standalone question
Condense = Callable[[str, Sequence[tuple[str, str]]], str]
MAX_STANDALONE_CHARS = 1000


class LlmCondenser:
    def __init__(self, chat: ChatModel, *, offline: Condense, prompt_version: str | None = None) -> None:
        self.chat = chat
        self.offline = offline
        self.prompt = get_prompt("condense", prompt_version)

    def __call__(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        if not history:
            return question
        transcript = "\n".join(f"User: {asked}\nAssistant: {answered}" for asked, answered in history)
        try:
            completion = self.chat.complete(
                render(self.prompt, history=transcript, question=question), max_tokens=200
            )
        except EnduranceError as error:
            logger.warning("llm condense unavailable, using the rule", extra={"error": type(error).__name__})
            return self.offline(question, history)
        standalone = completion.text.strip().strip('"').strip()
        if not standalone or len(standalone) > MAX_STANDALONE_CHARS or "\n" in standalone:
            return self.offline(question, history)
        return standalone
