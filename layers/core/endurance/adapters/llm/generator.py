"""The LLM ``AnswerGenerator``: a grounded prompt over the retrieved chunks, citations renumbered to the
chunks actually cited, refusals recognised, and usage (tokens, latency, estimated cost) recorded."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from endurance.adapters.llm.chat import ChatModel
from endurance.adapters.llm.citations import renumber_citations
from endurance.adapters.llm.pricing import estimate_cost_usd
from endurance.adapters.offline.extractive_answerer import REFUSAL_TEXT, refusal
from endurance.domain.models import Answer, Chunk, Route
from endurance.prompts import get_prompt, render

BLOCKED_TEXT = "I can't help with that request."
HUMAN_REVIEW_TEXT = "This needs a person: a member of the team will look at your request."
MAX_SENTENCES = 4
_REFUSAL_CUE = re.compile(
    r"\b(?:could not|couldn't|cannot|can't|do not|don't|does not|doesn't) (?:find|contain|say|mention|state|"
    r"give|cover)\b|\bnot (?:in|covered by|mentioned in|stated in) the (?:documents|passages)\b",
    re.IGNORECASE,
)


class LlmAnswerGenerator:
    def __init__(
        self,
        chat: ChatModel,
        *,
        answer_prompt: str | None = None,
        direct_prompt: str | None = None,
        max_context_chars: int = 12_000,
        price_override: tuple[float, float] | None = None,
    ) -> None:
        self.chat = chat
        self.name = f"{chat.provider}:{chat.model}"
        self.answer_prompt = get_prompt("answer", answer_prompt)
        self.direct_prompt = get_prompt("direct", direct_prompt)
        self.max_context_chars = max_context_chars
        self.price_override = price_override

    def generate(self, question: str, chunks: Sequence[Chunk], *, route: Route) -> Answer:
        started = time.perf_counter()
        if route is Route.BLOCKED:
            return self._stamp(Answer(text=BLOCKED_TEXT, refusal=True), started)
        if route is Route.HUMAN_REVIEW:
            return self._stamp(Answer(text=HUMAN_REVIEW_TEXT), started)
        if route is Route.DIRECT:
            completion = self.chat.complete(render(self.direct_prompt, question=question), max_tokens=120)
            return self._stamp(Answer(text=completion.text), started, completion)
        if not chunks:
            # Nothing retrieved: nothing to ground an answer in, so no call (and no cost) at all.
            return self._stamp(refusal(), started)
        messages = render(
            self.answer_prompt,
            question=question,
            context=self._context(chunks),
            refusal=REFUSAL_TEXT,
            max_sentences=MAX_SENTENCES,
        )
        completion = self.chat.complete(messages)
        text, sources = renumber_citations(completion.text, chunks)
        answer = refusal() if _is_refusal(text) else Answer(text=text, sources=sources)
        return self._stamp(answer, started, completion)

    def _context(self, chunks: Sequence[Chunk]) -> str:
        passages = []
        budget = self.max_context_chars
        for number, chunk in enumerate(chunks, start=1):
            heading = f"{chunk.doc} — {chunk.section}" if chunk.section else chunk.doc
            passage = f"[{number}] ({heading})\n{chunk.text.strip()}"
            if len(passage) > budget:
                passage = passage[: max(budget, 0)]
            if not passage:
                break
            passages.append(passage)
            budget -= len(passage)
        return "\n\n".join(passages)

    def _stamp(self, answer: Answer, started: float, completion: object | None = None) -> Answer:
        update: dict[str, object] = {
            "provider": self.chat.provider,
            "model": self.chat.model,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        if completion is not None:
            tokens_in = int(getattr(completion, "tokens_in", 0))
            tokens_out = int(getattr(completion, "tokens_out", 0))
            model = str(getattr(completion, "model", self.chat.model))
            update |= {
                "model": model,
                "tokens_in": tokens_in,
                "tokens_out": tokens_out,
                "cost_usd": estimate_cost_usd(model, tokens_in, tokens_out, self.price_override),
            }
        return answer.model_copy(update=update)


def _is_refusal(text: str) -> bool:
    """The prompt asks for the exact refusal sentence; models paraphrase it, and sometimes cite nothing."""
    plain = re.sub(r"\s*\[\d+\]", "", text).strip()
    if REFUSAL_TEXT.rstrip(".").lower() in plain.lower():
        return True
    return len(plain.split()) <= 25 and bool(_REFUSAL_CUE.search(plain)) and "[" not in text
