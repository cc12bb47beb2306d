"""Versioned prompts, rendered with langchain-core ``ChatPromptTemplate``.

A prompt is identified as ``name@version``. Changing a prompt means adding a new version and pointing
``CURRENT`` at it, never editing a published one: answers record the prompt id they were written with, so
an old answer can always be explained by the exact text that produced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from endurance.prompts import answer, classify, condense, direct

if TYPE_CHECKING:
    from endurance.adapters.llm.chat import ChatMessage


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    messages: tuple[tuple[str, str], ...]  # (role, f-string template)

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"


PROMPTS: dict[str, Prompt] = {
    prompt.id: prompt
    for prompt in (
        Prompt("answer", "v1", answer.V1),
        Prompt("classify", "v1", classify.V1),
        Prompt("condense", "v1", condense.V1),
        Prompt("direct", "v1", direct.V1),
    )
}
CURRENT = {"answer": "v1", "classify": "v1", "condense": "v1", "direct": "v1"}


def get_prompt(name: str, version: str | None = None) -> Prompt:
    key = f"{name}@{version or CURRENT.get(name, '')}"
    if key not in PROMPTS:
        raise KeyError(f"no prompt {key}; known: {', '.join(sorted(PROMPTS))}")
    return PROMPTS[key]


_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def render(prompt: Prompt, **values: Any) -> list[ChatMessage]:
    """The chat messages of ``prompt`` with ``values`` filled in (missing values raise KeyError)."""
    messages = _template(prompt.id).format_messages(**values)
    return [{"role": _ROLES[message.type], "content": str(message.content)} for message in messages]  # type: ignore[typeddict-item]


@lru_cache(maxsize=32)
def _template(prompt_id: str) -> Any:
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages(list(PROMPTS[prompt_id].messages))
