from __future__ import annotations

from endurance.adapters.offline.extractive_answerer import REFUSAL_TEXT, ExtractiveAnswerer
from endurance.domain.models import Chunk, Route

CHUNKS = [
    Chunk(
        chunk_id="dp.md#1",
        doc="dp.md",
        section="6. Retention Periods",
        score=0.03,
        text=(
            "Personal data must be kept only as long as shown below.\n\n"
            "| Category of record | Retention period |\n|---|---|\n"
            "| CCTV footage at Ministry buildings | 30 days |\n| Staff personnel files | 6 years |"
        ),
    ),
    Chunk(
        chunk_id="travel.md#4",
        doc="travel.md",
        section="8. Expense Claims",
        score=0.02,
        text="Claims must be submitted within 30 days of returning from the trip. Late claims need approval.",
    ),
]


def test_quotes_the_best_row_with_its_header_and_cites_it() -> None:
    answer = ExtractiveAnswerer().generate("How long is CCTV footage kept?", CHUNKS, route=Route.RAG)
    assert (
        "Category of record: CCTV footage at Ministry buildings; Retention period: 30 days [1]."
        in answer.text
    )
    assert "Staff personnel files" not in answer.text
    assert answer.sources[0].chunk_id == "dp.md#1" and answer.sources[0].section == "6. Retention Periods"
    assert not answer.refusal and answer.tokens_out > 0


def test_citation_numbers_follow_the_sources() -> None:
    question = "How long is CCTV footage kept, and when must expense claims be submitted?"
    answer = ExtractiveAnswerer().generate(question, CHUNKS, route=Route.RAG)
    assert [s.doc for s in answer.sources] == ["dp.md", "travel.md"]
    assert "[1]" in answer.text and "[2]" in answer.text


def test_refuses_when_nothing_matches() -> None:
    answer = ExtractiveAnswerer().generate("Who won the football league?", CHUNKS, route=Route.RAG)
    assert (answer.text, answer.refusal, answer.sources) == (REFUSAL_TEXT, True, [])


def test_small_talk_replies() -> None:
    generator = ExtractiveAnswerer()
    assert "welcome" in generator.generate("Thank you!", [], route=Route.DIRECT).text
    assert generator.generate("Bye for now", [], route=Route.DIRECT).text.startswith("Goodbye")
    assert generator.generate("Who are you?", [], route=Route.DIRECT).sources == []
