"""The chat port every provider implements, and what a call returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Completion:
    text: str
    provider: str
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0


class ChatModel(Protocol):
    """One chat-completions endpoint. ``complete`` raises the errors of ``adapters.llm.errors`` only."""

    provider: str
    model: str

    def complete(
        self, messages: list[ChatMessage], *, json_mode: bool = False, max_tokens: int | None = None
    ) -> Completion: ...
