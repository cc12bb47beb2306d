"""A step that raises: the job is FAILED, its envelope waits in the failed-jobs queue, replay recovers it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from endurance_cli.main import main as cli

from tests.integration.conftest import RunningStack
from tests.integration.test_chat_pipeline import submit, wait_job
from tests.support import wait_for


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    code = cli(list(args))
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def queue_depth(stack: RunningStack, logical_id: str) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.queue_url(logical_id),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_failed_step_lands_in_the_failed_jobs_queue_and_replay_completes_it(
    running_stack: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = running_stack
    accepted = submit(stack, "How long are audit logs kept? [[fail:answer]]", session_id="sess-replay")
    failed = wait_job(stack, accepted["job_id"])
    assert failed["status"] == "FAILED"
    assert failed["error"]["type"] == "FaultInjected"
    assert failed["error"]["step"] == "answer"
    assert {"name": "answer", "status": "FAILED"}.items() <= next(
        s for s in failed["steps"] if s["name"] == "answer"
    ).items()
    wait_for(lambda: queue_depth(stack, "FailedJobsQueue") >= 1, timeout=10, what="the failed-jobs message")

    api = ["--api-url", stack.api_url, "--json"]
    listed = {q["queue"]: q for q in run_cli(capsys, "dlq", "list", *api)}
    failed_queue = listed[stack.name("FailedJobsQueue")]
    assert failed_queue["source"] == stack.name("IntakeQueue")
    assert failed_queue["messages"] >= 1
    assert {stack.name(q) for q in ("IntakeDLQ", "AuditDLQ", "NotifyDLQ", "MetricsDLQ")} <= set(listed)

    preview = run_cli(capsys, "dlq", "replay", "FailedJobsQueue", "--dry-run", *api)
    assert preview["dry_run"] is True and preview["replayed"] == 0
    assert accepted["job_id"] in {m.get("job_id") for m in preview["messages"]}
    assert queue_depth(stack, "FailedJobsQueue") >= 1

    replayed = run_cli(
        capsys,
        "dlq",
        "replay",
        "FailedJobsQueue",
        "--max",
        "10",
        "--job-id",
        accepted["job_id"],
        "--rate",
        "5",
        *api,
    )
    assert replayed["replayed"] == 1
    assert [m["job_id"] for m in replayed["messages"]] == [accepted["job_id"]]
    job = wait_job(stack, accepted["job_id"])
    assert job["status"] == "COMPLETED", job
    assert job["job_id"] == accepted["job_id"]
    assert job["error"] is None
    assert queue_depth(stack, "FailedJobsQueue") == 0

    session = httpx.get(f"{stack.api_url}/v1/sessions/sess-replay", timeout=10).json()
    assert [t["job_id"] for t in session["turns"]] == [accepted["job_id"]]

    def audit_items() -> list[dict[str, Any]] | None:
        items = stack.client("dynamodb").query(
            TableName=stack.name("AuditTable"),
            KeyConditionExpression="log_id = :j",
            ExpressionAttributeValues={":j": {"S": accepted["job_id"]}},
        )["Items"]
        return items if any(i["type"]["S"] == "JobCompleted" for i in items) else None

    items = wait_for(audit_items, timeout=20, what="the replayed job's audit records")
    event_ids = [i["event_id"]["S"] for i in items]
    assert len(event_ids) == len(set(event_ids))
    types = [i["type"]["S"] for i in items]
    assert types.count("JobFailed") == 1 and types.count("JobCompleted") == 1


def test_a_poison_intake_message_ends_in_the_intake_dlq(running_stack: RunningStack) -> None:
    stack = running_stack
    before = queue_depth(stack, "IntakeDLQ")
    stack.client("sqs").send_message(QueueUrl=stack.queue_url("IntakeQueue"), MessageBody="{not a job")
    wait_for(
        lambda: queue_depth(stack, "IntakeDLQ") == before + 1,
        timeout=30,
        what="the poison message in the DLQ",
    )
    assert queue_depth(stack, "IntakeQueue") == 0
