"""POST /v1/evaluate through the running local stack: the metrics JSON, and clear 4xx errors on bad input."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import RunningStack

pytestmark = pytest.mark.slow

FIELDS = {
    "faithfulness",
    "hallucination",
    "unsupported_spans",
    "answer_relevance",
    "context_relevance",
    "context_precision",
    "refusal",
    "refusal_correct",
    "pii",
    "toxicity",
    "toxic",
    "verdict",
    "reasons",
}
CONTEXTS = [
    "Harbourstone Bank - Premier Current Account. Monthly fee: £17, waived in any month in which £5,000 or "
    "more is paid into the account.",
    "Harbourstone Bank - Everyday Current Account. Monthly account fee: £0.",
]
QUESTION = "How do I avoid paying the Premier account fee?"


def post(
    stack: RunningStack,
    body: object | None = None,
    *,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return httpx.post(
        f"{stack.api_url}/v1/evaluate",
        json=body if content is None else None,
        content=content,
        headers=headers,
        timeout=20,
    )


def test_evaluate_returns_every_metric(running_stack: RunningStack) -> None:
    good = post(
        running_stack,
        {
            "question": QUESTION,
            "contexts": CONTEXTS,
            "answer": "The £17 monthly fee is waived in any month you pay in £5,000 or more.",
        },
    )
    assert good.status_code == 200, good.text
    body = good.json()
    assert body.keys() >= FIELDS
    assert body["hallucination"] is False and body["faithfulness"] == 1.0 and body["verdict"] == "pass"
    assert len(body["context_relevance"]) == 2 and body["context_relevance"][0] > body["context_relevance"][1]

    changed = post(
        running_stack,
        {
            "question": QUESTION,
            "contexts": CONTEXTS,
            "answer": "The £17 monthly fee is waived in any month you pay in £3,000 or more.",
        },
    )
    assert changed.status_code == 200
    assert changed.json()["hallucination"] is True and changed.json()["verdict"] == "fail"
    assert any("£3,000" in span for span in changed.json()["unsupported_spans"])


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"question": QUESTION, "contexts": CONTEXTS, "answer": "   "}, 422, "invalid_request"),
        ({"question": QUESTION, "contexts": [], "answer": "Pay in £5,000."}, 422, "invalid_request"),
        ({"question": QUESTION, "answer": "Pay in £5,000."}, 422, "invalid_request"),
        ({"question": QUESTION, "contexts": ["  "], "answer": "Pay in £5,000."}, 422, "invalid_request"),
        (
            {"question": QUESTION, "contexts": "one string", "answer": "Pay in £5,000."},
            422,
            "invalid_request",
        ),
        ({"question": 7, "contexts": CONTEXTS, "answer": "Pay in £5,000."}, 422, "invalid_request"),
        ({"question": QUESTION, "contexts": CONTEXTS, "answer": "x" * 20_001}, 422, "invalid_request"),
        ({"question": QUESTION, "contexts": ["c"] * 51, "answer": "Pay in £5,000."}, 422, "invalid_request"),
        ({"question": QUESTION, "contexts": ["x" * 70_000], "answer": "Pay."}, 413, "payload_too_large"),
    ],
)
def test_bad_input_is_a_clear_4xx(running_stack: RunningStack, body: dict, status: int, code: str) -> None:
    response = post(running_stack, body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]


def test_non_utf8_and_non_json_bodies_are_rejected(running_stack: RunningStack) -> None:
    binary = post(
        running_stack, content=b'{"question": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    assert binary.status_code == 400, binary.text
    assert binary.json()["error"]["code"] == "invalid_encoding"
    broken = post(running_stack, content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_json"
