"""Held-out cases written for these tests (not from the dev set): one per hallucination type, plus faithful
paraphrases and computed figures that must not be flagged."""

from __future__ import annotations

import pytest
from endurance.evaluation.engine import evaluate_offline

LIBRARY = [
    "Northbridge Library - Borrowing Rules. Adults may borrow up to 12 items at a time for 3 weeks. "
    "Items can be renewed twice online, unless another member has reserved them. Overdue adult items are "
    "charged at 25p per day, up to a maximum of £6 per item. "
    "Children's items are never charged overdue fines.",
    "Northbridge Library - Opening Hours. The Central branch opens 09:00-19:00 Monday to Friday and "
    "10:00-16:00 on Saturday. It is closed on Sundays and bank holidays. The Harbour branch opens "
    "10:00-17:00 Tuesday to Saturday.",
]
QUESTION = "How long can I keep a book, and what do I pay if it is 10 days late?"


@pytest.mark.parametrize(
    "answer",
    [
        "You can keep up to 12 items for three weeks, and late adult items cost 25p a day, capped at £6.",
        "At 25p a day, 10 days late means you would pay £2.50.",
        "Adults can take out as many as twelve items, each for 3 weeks.",
        "Fines for overdue adult items are 25p per day, with a £6 maximum per item.",
    ],
)
def test_faithful_answers_pass(answer: str) -> None:
    result = evaluate_offline(QUESTION, LIBRARY, answer)
    assert not result.hallucination, result.reasons
    assert result.faithfulness == 1.0 and result.unsupported_spans == []


@pytest.mark.parametrize(
    ("answer", "kind", "span_part"),
    [
        (
            "You can keep up to 12 items for four weeks, and late adult items cost 25p a day.",
            "number",
            "four weeks",
        ),
        ("The Central branch opens 09:00-20:00 Monday to Friday.", "date", "20:00"),
        ("The Harbour branch opens 09:00-19:00 Monday to Friday.", "entity", "Harbour"),
        ("Children's items are charged overdue fines at 25p per day.", "negation", "Children"),
        (
            "Items can always be renewed online, even if another member has reserved them.",
            "quantifier",
            "renewed",
        ),
        (
            "Overdue adult items are charged at 25p per day, and members over 65 are exempt from fines.",
            "number",
            "65",
        ),
        ("Loans can be extended by Westgate County Council.", "entity", "Westgate"),
        ("At 25p a day, 10 days late means you would pay £3.50.", "number", "£3.50"),
    ],
)
def test_each_kind_of_error_is_flagged_and_named(answer: str, kind: str, span_part: str) -> None:
    result = evaluate_offline(QUESTION, LIBRARY, answer)
    assert result.hallucination and result.verdict == "fail"
    assert kind in {issue["kind"] for issue in result.issues}, result.issues
    assert any(span_part in span for span in result.unsupported_spans)
    assert all(span in answer for span in result.unsupported_spans)  # exact substrings of the answer


def test_only_the_wrong_sentence_is_unsupported() -> None:
    answer = "Adults may borrow 12 items for 3 weeks. Overdue adult items cost 30p per day."
    result = evaluate_offline(QUESTION, LIBRARY, answer)
    assert result.faithfulness == 0.5
    assert result.unsupported_spans == ["Overdue adult items cost 30p per day."]


def test_a_wrong_refusal_is_a_hallucination_and_a_right_one_is_not() -> None:
    wrong = evaluate_offline(
        QUESTION, LIBRARY, "The borrowing rules don't say how many items adults may borrow."
    )
    assert wrong.refusal and wrong.refusal_correct is False and wrong.hallucination
    right = evaluate_offline(
        "Can I print documents at the library?",
        LIBRARY,
        "The documents don't mention printing, so I can't answer that.",
    )
    assert right.refusal and right.refusal_correct is True and not right.hallucination


def test_an_off_topic_answer_has_low_relevance_and_warns() -> None:
    result = evaluate_offline(QUESTION, LIBRARY, "The Harbour branch opens 10:00-17:00 Tuesday to Saturday.")
    assert not result.hallucination
    assert result.answer_relevance is not None and result.answer_relevance < 0.5
    assert result.verdict == "warn"
    assert result.context_relevance[0] > result.context_relevance[1]


def test_deterministic_and_fast() -> None:
    answer = "You can keep up to 12 items for three weeks, and late adult items cost 25p a day."
    first = evaluate_offline(QUESTION, LIBRARY * 3, answer).model_dump(exclude={"latency_ms"})
    assert all(
        evaluate_offline(QUESTION, LIBRARY * 3, answer).model_dump(exclude={"latency_ms"}) == first
        for _ in range(3)
    )
