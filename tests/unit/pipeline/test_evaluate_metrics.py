from __future__ import annotations

from endurance.pipeline.evaluate import evaluate, find_pii, luhn_valid

CONTEXTS = [
    "The Ministry must respond to a subject access request within 30 days of receiving a request with "
    "verified identity. The deadline may be extended by up to a further 60 days for complex requests.",
    "CCTV footage at Ministry buildings is kept for 30 days from recording.",
]
QUESTION = "How long does the Ministry have to answer a subject access request?"


def test_a_grounded_answer_passes() -> None:
    result = evaluate(
        QUESTION, CONTEXTS, "The Ministry must respond within 30 days of receiving a request [1]."
    )
    assert result.faithfulness == 1.0 and not result.hallucination
    assert result.verdict == "pass"
    off_topic = evaluate(QUESTION, CONTEXTS, "CCTV footage is kept for 30 days from recording [2].")
    assert result.answer_relevance is not None and off_topic.answer_relevance is not None
    assert result.answer_relevance > off_topic.answer_relevance
    assert result.context_relevance[0] > result.context_relevance[1]


def test_a_changed_number_drops_faithfulness() -> None:
    result = evaluate(
        QUESTION, CONTEXTS, "The Ministry must respond within 45 days of receiving a request [1]."
    )
    assert result.faithfulness == 0.0 and result.hallucination
    assert result.unsupported_spans == ["The Ministry must respond within 45 days of receiving a request."]
    assert result.verdict == "fail"


def test_one_unsupported_sentence_is_named() -> None:
    answer = (
        "The Ministry must respond within 30 days of receiving a request. "
        "The deadline may be extended by up to a further 60 days. "
        "Requests are always free of charge for pensioners."
    )
    result = evaluate(QUESTION, CONTEXTS, answer)
    assert result.faithfulness == round(2 / 3, 4) and result.hallucination
    assert result.unsupported_spans == ["Requests are always free of charge for pensioners."]
    assert {issue["kind"] for issue in result.issues} <= {"quantifier", "unsupported", "entity"}


def test_refusals_are_detected_and_judged() -> None:
    missing = evaluate(
        "What is the maximum fine for a breach?", CONTEXTS, "I could not find this in the documents."
    )
    # A correct refusal makes no false claim (faithful); refusing although the answer is there is a false
    # claim about the contexts: unfaithful, and the verdict fails.
    assert missing.refusal and missing.refusal_correct is True and missing.faithfulness == 1.0
    assert not missing.hallucination
    present = evaluate(QUESTION, CONTEXTS, "I could not find this in the documents.")
    assert present.refusal_correct is False and present.hallucination and present.verdict == "fail"
    answered = evaluate(QUESTION, CONTEXTS, "Within 30 days.")
    assert answered.refusal is False and answered.refusal_correct is None


def test_pii_needs_a_valid_card_checksum() -> None:
    assert luhn_valid("4539578763621486") and not luhn_valid("4539578763621487")
    found = find_pii(
        "Mail jo.bloggs@example.org or call +44 20 7946 0958; card 4539 5787 6362 1486; "
        "IBAN GB82 WEST 1234 5698 7654 32; not a card: 4539 5787 6362 1487; budget VLC 207.8 million."
    )
    assert {(p["type"], p["text"]) for p in found} == {
        ("email", "jo.bloggs@example.org"),
        ("phone", "+44 20 7946 0958"),
        ("card", "4539 5787 6362 1486"),
        ("iban", "GB82 WEST 1234 5698 7654 32"),
    }
    result = evaluate(QUESTION, CONTEXTS, "Write to jo.bloggs@example.org within 30 days.")
    assert result.pii and result.verdict == "fail"


def test_toxicity() -> None:
    result = evaluate(QUESTION, CONTEXTS, "Only an idiot would ask that, you moron.")
    assert result.toxic and result.toxicity == 1.0 and result.verdict == "fail"
    assert evaluate(QUESTION, CONTEXTS, "Within 30 days.").toxicity == 0.0


def test_context_precision_rewards_relevant_contexts_first() -> None:
    good_first = evaluate(QUESTION, CONTEXTS, "Within 30 days.").context_precision
    good_last = evaluate(QUESTION, CONTEXTS[::-1], "Within 30 days.").context_precision
    assert good_first == 1.0 and good_last is not None and good_last < 1.0
