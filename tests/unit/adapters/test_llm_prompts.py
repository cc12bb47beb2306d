"""Prompts are versioned langchain-core templates; every registered prompt renders."""

from __future__ import annotations

import pytest
from endurance.prompts import CURRENT, PROMPTS, get_prompt, render

VALUES = {
    "question": "How long is CCTV kept? {not a placeholder}",
    "context": "[1] (dp.md — 6. Retention)\nCCTV: 30 days {x}",
    "refusal": "I could not find this in the documents.",
    "max_sentences": 4,
    "history": "User: hi\nAssistant: hello",
}


@pytest.mark.parametrize("prompt_id", sorted(PROMPTS))
def test_every_prompt_renders_to_chat_messages(prompt_id: str) -> None:
    messages = render(PROMPTS[prompt_id], **VALUES)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert all(m["content"].strip() for m in messages)
    # User text is data, not template: braces in it come through untouched.
    assert "{not a placeholder}" in messages[-1]["content"]


def test_versions_are_explicit() -> None:
    assert get_prompt("answer").id == f"answer@{CURRENT['answer']}"
    assert get_prompt("answer", "v1").id == "answer@v1"
    with pytest.raises(KeyError, match="no prompt answer@v9"):
        get_prompt("answer", "v9")


def test_a_missing_value_is_an_error() -> None:
    with pytest.raises(KeyError):
        render(get_prompt("answer"), question="q")
