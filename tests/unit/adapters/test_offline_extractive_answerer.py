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


def _chunk(doc: str, section: str, text: str, rank: int) -> Chunk:
    return Chunk(chunk_id=f"{doc}#{rank}", doc=doc, section=section, score=0.1 - rank / 100, text=text)


def test_a_named_thing_is_answered_only_from_chunks_that_name_it() -> None:
    """Shared words ("Register", "users") must not let a passage about something else answer."""
    chunks = [
        _chunk(
            "ai_policy.md",
            "4.2 Approval Requirements",
            "| Tier | Approval | Additional requirements |\n|---|---|---|\n"
            "| Tier 2 | Director | Entry in the AI Register; users told they are interacting with AI |",
            0,
        ),
        _chunk("sla.md", "1. Parties", "Veloria Connect is the Ministry's citizen portal.", 1),
    ]
    question = "How many registered users does Veloria Connect have?"
    answer = ExtractiveAnswerer().generate(question, chunks, route=Route.RAG)
    assert answer.refusal, answer.text
    # Without the name in the question the same passage may answer: the filter is about the name.
    other = ExtractiveAnswerer().generate("Who approves a Tier 2 system?", chunks, route=Route.RAG)
    assert "Director" in other.text


def test_a_comparison_of_two_years_takes_one_passage_per_year() -> None:
    chunks = [
        _chunk(
            "budget_2023-24.md",
            "5.6 Legacy System Maintenance",
            "Legacy System Maintenance falls by VLC 5.5 million (20.8%) to VLC 21.0 million.",
            0,
        ),
        _chunk(
            "budget_2022-23.md",
            "5.6 Legacy System Maintenance",
            "Spending on legacy systems falls by VLC 3.3 million (11.1%) to VLC 26.5 million.",
            1,
        ),
        _chunk(
            "budget_2023-24.md",
            "2.1 Reporting Basis",
            "To allow a like-for-like comparison, the comparative column is the 2022-23 budget as published.",
            2,
        ),
    ]
    question = "Compare the Legacy System Maintenance budgets for 2022-23 and 2023-24."
    answer = ExtractiveAnswerer().generate(question, chunks, route=Route.RAG)
    assert "21.0 million" in answer.text and "26.5 million" in answer.text, answer.text
    assert "like-for-like" not in answer.text


def test_a_clause_number_is_not_the_figure_asked_for() -> None:
    chunks = [
        _chunk(
            "travel.md",
            "11. Gifts While Travelling",
            "Staff involved in a live procurement must also follow the stricter rules in clause 14 of the "
            "procurement terms. Staff must declare any gift worth more than VLC 75 within 5 Working Days.",
            0,
        ),
    ]
    question = "Is the value above which gifts must be declared the same in the procurement terms?"
    answer = ExtractiveAnswerer().generate(question, chunks, route=Route.RAG)
    assert answer.text.startswith("Staff must declare any gift worth more than VLC 75"), answer.text


def test_a_question_about_paying_wants_a_sum_of_money() -> None:
    chunks = [
        _chunk(
            "sla.md",
            "8. Reporting",
            "The Provider must deliver a monthly service report within 10 Working Days after each month.",
            0,
        ),
        _chunk("sla.md", "7.3 Cap", "The Monthly Service Charge is VLC 412,000, excluding VAT.", 1),
    ]
    question = "How much does the Ministry pay the Provider each month?"
    answer = ExtractiveAnswerer().generate(question, chunks, route=Route.RAG)
    assert answer.text.startswith("The Monthly Service Charge is VLC 412,000"), answer.text
    # No sum of money among the passages: decline rather than quote a duration.
    alone = ExtractiveAnswerer().generate(question, chunks[:1], route=Route.RAG)
    assert alone.refusal, alone.text
