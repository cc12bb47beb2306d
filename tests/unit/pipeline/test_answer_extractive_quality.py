"""The extractive answerer over the real corpus index, on questions written apart from the dev set:
the figure that answers, the right row of a table, both sides of a comparison, and plain refusals."""

from __future__ import annotations

import re

import pytest
from endurance.adapters.offline.extractive_answerer import REFUSAL_TEXT, ExtractiveAnswerer
from endurance.adapters.offline.hashing_embedder import HashingEmbedder
from endurance.adapters.offline.local_index import LocalIndex
from endurance.domain.models import Answer, Chunk
from endurance.pipeline.answer import answer
from endurance.pipeline.retrieve import retrieve


def _ask(question: str, embedder: HashingEmbedder, index: LocalIndex) -> Answer:
    return answer(
        question, retrieve(question, embedder=embedder, index=index), generator=ExtractiveAnswerer()
    )


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How often must Tier 3 systems undergo bias testing?", "every 6 months"),
        ("How long does Phase 0 of the cloud migration last?", "8 weeks"),
        ("What is the efficiency savings target for 2023-24?", "VLC 6.2 million"),
        ("How long are staff personnel files kept?", "6 years"),
        ("Within what time must new staff complete the AI Essentials module?", "within 60 days of joining"),
        ("What day rate is assumed for the migration labour?", "VLC 780"),
    ],
)
def test_held_out_questions_get_the_figure_that_answers(
    question: str, expected: str, embedder: HashingEmbedder, corpus_index: LocalIndex
) -> None:
    result = _ask(question, embedder, corpus_index)
    assert not result.refusal and expected in result.text
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", result.text)}
    assert cited == set(range(1, len(result.sources) + 1))


@pytest.mark.parametrize(
    "question",
    [
        "What is the IT budget for 2025-26?",
        "How many employees work in the Open Data Unit?",
        "What salary does the Chief Information Officer earn?",
        "What is the maximum penalty the Commissioner can impose on the Ministry?",
    ],
)
def test_held_out_unanswerable_questions_are_refused(
    question: str, embedder: HashingEmbedder, corpus_index: LocalIndex
) -> None:
    result = _ask(question, embedder, corpus_index)
    assert (result.text, result.refusal, result.sources) == (REFUSAL_TEXT, True, [])


def _chunk(chunk_id: str, doc: str, section: str, text: str) -> Chunk:
    return Chunk(chunk_id=chunk_id, doc=doc, section=section, text=text, score=0.5)


def test_a_numbered_label_is_not_swapped_for_another() -> None:
    table = (
        "| Severity | Response time | Resolution |\n|---|---|---|\n"
        "| Severity 1 | 15 minutes | 4 hours |\n| Severity 2 | 30 minutes | 8 hours |"
    )
    chunks = [_chunk("sla#5", "sla.md", "5. Incident Response", table)]
    result = ExtractiveAnswerer().generate(
        "How quickly must the provider respond to a Severity 2 incident?", chunks, route=_rag()
    )
    assert "Severity 2" in result.text and "30 minutes" in result.text and "15 minutes" not in result.text


def test_each_part_of_a_question_gets_its_answer() -> None:
    chunks = [
        _chunk(
            "ai#10",
            "ai.md",
            "10. Incidents",
            "Tier 3 systems must be reviewed every year. AI incidents must be reported within 24 hours. "
            "Reports go to the AI Ethics Board secretariat, which keeps the incident log.",
        )
    ]
    result = ExtractiveAnswerer().generate(
        "Within what time must an AI incident be reported, and to whom?", chunks, route=_rag()
    )
    assert "within 24 hours" in result.text and "AI Ethics Board secretariat" in result.text
    assert "every year" not in result.text


def test_a_comparison_quotes_both_documents() -> None:
    chunks = [
        _chunk("proc#14", "Procurement.md", "14. Gifts", "Gifts worth more than VLC 50 must be declared."),
        _chunk(
            "travel#11", "Travel.md", "11. Gifts While Travelling", "Gifts above VLC 75 must be declared."
        ),
    ]
    result = ExtractiveAnswerer().generate(
        "Is the value above which gifts must be declared the same in procurement and in travel?",
        chunks,
        route=_rag(),
    )
    assert "VLC 50" in result.text and "VLC 75" in result.text and len(result.sources) == 2


def test_a_sentence_that_points_back_brings_its_antecedent() -> None:
    chunks = [
        _chunk(
            "b#5",
            "budget.md",
            "5.7 Cloud Migration",
            "This is a new line item of VLC 12.5 million. Of this amount, VLC 8.9 million is capital and "
            "VLC 3.6 million is operating expenditure.",
        )
    ]
    result = ExtractiveAnswerer().generate(
        "How is the cloud migration money split between capital and operating spending?", chunks, route=_rag()
    )
    assert "VLC 12.5 million" in result.text and "VLC 8.9 million" in result.text


def test_a_list_item_is_quoted_with_its_lead_in() -> None:
    text = (
        "A DPIA must be completed before processing that involves any of the following:\n\n"
        "- special categories of data on a large scale;\n- an AI system in Tier 3; or\n- data sharing."
    )
    chunks = [_chunk("dp#8", "dp.md", "8. DPIAs", text)]
    result = ExtractiveAnswerer().generate("Does a Tier 3 AI system need a DPIA?", chunks, route=_rag())
    assert result.text.startswith("A DPIA must be completed before processing that involves")
    assert "an AI system in Tier 3" in result.text


def _rag():  # type: ignore[no-untyped-def]
    from endurance.domain.models import Route

    return Route.RAG
