from __future__ import annotations

import re
from collections.abc import Sequence

from endurance.adapters.offline.extractive_answerer import REFUSAL_TEXT, ExtractiveAnswerer
from endurance.adapters.offline.hashing_embedder import HashingEmbedder
from endurance.adapters.offline.local_index import LocalIndex
from endurance.domain.models import Answer, Chunk, Route, Source
from endurance.pipeline.answer import answer
from endurance.pipeline.retrieve import retrieve


def _ask(question: str, embedder: HashingEmbedder, index: LocalIndex) -> Answer:
    chunks = retrieve(question, embedder=embedder, index=index)
    return answer(question, chunks, generator=ExtractiveAnswerer())


def test_answers_with_exact_figures_and_citations(
    embedder: HashingEmbedder, corpus_index: LocalIndex
) -> None:
    result = _ask("How quickly must the SOC acknowledge a SEV-1 incident?", embedder, corpus_index)
    assert not result.refusal
    assert "Within 10 minutes" in result.text
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", result.text)}
    assert cited == set(range(1, len(result.sources) + 1))
    assert result.sources[0].doc == "Incident_Response_Runbook.md"
    assert result.provider == "offline" and result.model == "extractive"


def test_table_rows_are_quoted_with_their_headers(
    embedder: HashingEmbedder, corpus_index: LocalIndex
) -> None:
    result = _ask("What's the maximum I can pay per night for a hotel in Astrava?", embedder, corpus_index)
    assert "Astrava" in result.text and "VLC 180" in result.text


def test_refuses_when_the_documents_do_not_cover_the_question(
    embedder: HashingEmbedder, corpus_index: LocalIndex
) -> None:
    result = _ask("What is the Ministry's total IT budget for 2024-25?", embedder, corpus_index)
    assert result.refusal and result.text == REFUSAL_TEXT and result.sources == []


def test_refuses_without_chunks() -> None:
    result = answer("What is the retention period for CCTV?", [], generator=ExtractiveAnswerer())
    assert result.refusal and result.sources == []


def test_direct_route_gets_a_friendly_reply_without_sources() -> None:
    result = answer("Good morning!", [], generator=ExtractiveAnswerer(), route=Route.DIRECT)
    assert result.text.startswith("Hello") and not result.refusal and result.sources == []


class _OverCitingGenerator:
    """A generator that cites a source it does not list, as a misbehaving LLM might."""

    name = "over-citing"

    def generate(self, question: str, chunks: Sequence[Chunk], *, route: Route) -> Answer:
        source = Source(doc="a.md", section="", chunk_id="a.md#1", score=1.0)
        return Answer(text="Thirty days [1] or sixty [3].", sources=[source])


def test_citations_to_missing_sources_are_removed() -> None:
    result = answer("How long?", [], generator=_OverCitingGenerator())
    assert result.text == "Thirty days [1] or sixty."
