"""PII, toxicity, refusal and quantity detectors on text written for these tests."""

from __future__ import annotations

import pytest
from endurance.evaluation.pii import find_pii, iban_valid, luhn_valid
from endurance.evaluation.quantities import Quantity, extract, same_value
from endurance.evaluation.refusal import is_refusal, refusal_sentences
from endurance.evaluation.toxicity import toxicity_score


def test_pii_types_and_exact_spans() -> None:
    text = (
        "Write to ada.lovelace@example.org or ring 07700 900123 (or +44 20 7946 0958). "
        "NI number AB 12 34 56 C, SSN 123-45-6789. Card 4539 5787 6362 1486, "
        "IBAN GB82 WEST 1234 5698 7654 32. She lives at "
        "14 Larkspur Avenue, Dunmore DN4 7QX. Sort code 20-00-00, account number 55779911. Born 03/02/1987."
    )
    found = {(p["type"], p["text"]) for p in find_pii(text)}
    assert ("email", "ada.lovelace@example.org") in found
    assert ("phone", "07700 900123") in found and ("phone", "+44 20 7946 0958") in found
    assert ("national_id", "AB 12 34 56 C") in found and ("national_id", "123-45-6789") in found
    assert ("card", "4539 5787 6362 1486") in found
    assert ("iban", "GB82 WEST 1234 5698 7654 32") in found
    assert ("address", "14 Larkspur Avenue, Dunmore DN4 7QX") in found
    assert ("bank_account", "55779911") in found and ("bank_account", "20-00-00") in found
    assert ("date_of_birth", "03/02/1987") in found
    assert all(p["text"] in text for p in find_pii(text))


def test_checksums_and_things_that_are_not_pii() -> None:
    assert luhn_valid("4539578763621486") and not luhn_valid("4539578763621487")
    assert iban_valid("GB82WEST12345698765432") and not iban_valid("GB83WEST12345698765432")
    assert find_pii("Card 4539 5787 6362 1487 is not valid.") == []
    assert find_pii("The budget is £24.1 million over 62 km; call-offs of 200 tonnes within 48 hours.") == []


@pytest.mark.parametrize(
    "text",
    [
        "Sure. People like you never read the terms anyway.",
        "The form is simple, though applicants are famously too lazy to finish it.",
        "Residents who can't even sort their bins are a constant nuisance.",
        "Only an idiot would miss that deadline.",
    ],
)
def test_demeaning_language_is_toxic(text: str) -> None:
    assert toxicity_score(text) >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "A simple calculation gives £16.00.",
        "You cannot cancel during the first 12 months, even if you move.",
        "Hazardous waste is removed within 24 hours of a report.",
    ],
)
def test_plain_answers_are_not_toxic(text: str) -> None:
    assert toxicity_score(text) < 0.5


def test_refusal_detection() -> None:
    refusing = "The handbook covers opening hours, but it doesn't mention parking, so I can't say."
    assert is_refusal(refusing, refusal_sentences(refusing))
    answering = "Yes. You can renew twice online."
    assert not is_refusal(answering, refusal_sentences(answering))


def test_quantities_normalise_units_and_words() -> None:
    def one(text: str) -> Quantity:
        (quantity,) = extract(text)
        return quantity

    assert same_value(one("£5,000"), one("£5000"))
    assert same_value(one("six months"), one("6 months"))
    assert same_value(one("48 hours"), one("2 days"))
    assert same_value(one("half"), one("50%"))
    assert same_value(one("four-fifths"), one("80%"))
    assert not same_value(one("1/49th"), one("1/54th"))
    assert not same_value(one("3 working days"), one("3 days"))
    assert not same_value(one("March 2025"), one("May 2025"))
    assert one("$2.46 million").value == 2_460_000
    assert one("18p").value == pytest.approx(0.18)
    assert one("5:00 pm").value == 17 * 60
