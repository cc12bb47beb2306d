"""The LLM judge through the real OpenAI and Groq SDKs against a loopback fake server (no network)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from endurance.config import Settings
from endurance.pipeline.evaluate import evaluate

from tests.unit.evaluation.fake_judge_server import FakeJudgeServer

CONTEXTS = ["Overdue adult items are charged at 25p per day, up to a maximum of £6 per item."]
QUESTION = "What is the fine for a late book?"
ANSWER = "Late adult items cost 25p a day, up to £6 per item."


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeJudgeServer]:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("GROQ_API_KEY", "test-key")
    with FakeJudgeServer() as fake:
        yield fake


def settings(server: FakeJudgeServer, provider: str = "openai", **extra: object) -> Settings:
    return Settings(
        eval_judge=provider,
        eval_judge_base_url=server.base_url,
        eval_judge_model="gpt-4o-mini",
        eval_judge_timeout_s=0.5,
        **extra,
    )


def test_judge_verdict_replaces_offline_faithfulness_and_records_cost(server: FakeJudgeServer) -> None:
    server.reply_verdict(
        {"faithful": False, "unsupported_spans": ["up to £6 per item"], "reason": "cap differs"},
        tokens=(1000, 200),
    )
    result = evaluate(QUESTION, CONTEXTS, ANSWER, settings(server))
    assert result.hallucination is True and result.unsupported_spans == ["up to £6 per item"]
    assert result.verdict == "fail" and result.mode == "llm-judge"
    judge = result.judge
    assert judge["status"] == "ok" and judge["tokens_in"] == 1000 and judge["tokens_out"] == 200
    assert judge["cost_usd"] == pytest.approx((1000 * 0.15 + 200 * 0.60) / 1e6)
    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["authorization"] == "Bearer test-key"
    assert sent["body"]["response_format"]["type"] == "json_schema" and sent["body"]["temperature"] == 0
    assert ANSWER in sent["body"]["messages"][1]["content"]


def test_groq_sdk_path_works_too(server: FakeJudgeServer) -> None:
    server.reply_verdict({"faithful": True, "unsupported_spans": [], "reason": "all supported"})
    result = evaluate(QUESTION, CONTEXTS, ANSWER, settings(server, "groq"))
    assert result.judge["status"] == "ok" and result.judge["provider"] == "groq"
    assert result.hallucination is False and result.faithfulness == 1.0
    assert server.requests[0]["path"].endswith("/chat/completions")


@pytest.mark.parametrize(
    "failure",
    ["http_500", "not_json", "off_schema", "timeout"],
)
def test_any_judge_failure_falls_back_to_offline(server: FakeJudgeServer, failure: str) -> None:
    offline = evaluate(QUESTION, CONTEXTS, ANSWER, Settings())
    if failure == "http_500":
        server.reply_error(500)
        server.reply_error(500)  # the SDK retries once
    elif failure == "not_json":
        server.reply_verdict("this is not JSON")
    elif failure == "off_schema":
        server.reply_verdict({"verdict": "fine"})
    else:
        server.reply_verdict({"faithful": True, "unsupported_spans": [], "reason": "late"}, delay=1.0)
        server.reply_verdict({"faithful": True, "unsupported_spans": [], "reason": "late"}, delay=1.0)
    result = evaluate(QUESTION, CONTEXTS, ANSWER, settings(server))
    assert result.judge["status"] == "fallback" and result.judge["cost_usd"] == 0.0
    assert result.hallucination == offline.hallucination and result.faithfulness == offline.faithfulness
    assert "LLM judge unavailable; offline metrics used" in result.reasons


def test_missing_key_falls_back_without_calling(
    server: FakeJudgeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    result = evaluate(QUESTION, CONTEXTS, ANSWER, settings(server))
    assert result.judge["status"] == "fallback" and "OPENAI_API_KEY" in result.judge["error"]
    assert server.requests == []
