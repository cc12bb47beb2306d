"""submit_job / dispatch_job / reads, on the real DynamoDB, SQS and Step Functions adapters (moto server)."""

from __future__ import annotations

import json

import pytest
from endurance import bootstrap
from endurance.adapters.aws.sqs import SqsJobQueue
from endurance.domain.errors import ConflictError, NotFoundError
from endurance.domain.models import ChatRequest, Feedback, JobEnvelope, JobStatus
from endurance.services import jobs as service

from tests.unit.services.endurance_aws_stack import AwsStack


def _submit(question: str = "What is the budget?", key: str | None = None, **extra: str) -> service.Submitted:
    return service.submit_job(
        ChatRequest(question=question, **extra),
        jobs=bootstrap.jobs(),
        queue=bootstrap.intake_queue(),
        idempotency=bootstrap.idempotency(),
        idempotency_key=key,
    )


def test_submit_writes_queued_job_then_queues_its_envelope(aws: AwsStack) -> None:
    submitted = _submit(session_id="s-1")
    job = bootstrap.jobs().get(submitted.job_id)
    assert job is not None and job.status is JobStatus.QUEUED and job.session_id == "s-1"
    (message,) = aws.drain("intake", expect=1)
    envelope = JobEnvelope.model_validate_json(message["Body"])
    assert envelope.job_id == submitted.job_id
    assert envelope.attempt == 1 and envelope.created_at == job.created_at
    assert submitted.body("wss://x/prod") == {
        "job_id": submitted.job_id,
        "session_id": "s-1",
        "status": "QUEUED",
        "status_url": f"/v1/jobs/{submitted.job_id}",
        "websocket_url": "wss://x/prod",
    }


def test_submit_without_session_creates_one(aws: AwsStack) -> None:
    first, second = _submit(), _submit()
    assert first.session_id and second.session_id and first.session_id != second.session_id


def test_same_idempotency_key_gives_the_same_job_once(aws: AwsStack) -> None:
    first = _submit(key="k-1")
    again = _submit(key="k-1")
    assert again.job_id == first.job_id and again.replayed and not first.replayed
    assert len(aws.drain("intake", expect=1)) == 1


def test_same_idempotency_key_with_another_body_conflicts(aws: AwsStack) -> None:
    _submit(key="k-2")
    with pytest.raises(ConflictError):
        _submit("A different question", key="k-2")


def test_queue_failure_marks_job_failed_and_frees_the_key(aws: AwsStack) -> None:
    missing = SqsJobQueue(aws.env["INTAKE_QUEUE_URL"].replace("/intake", "/no-such-queue"))
    request = ChatRequest(question="hello")
    with pytest.raises(service.QueueUnavailable):
        service.submit_job(
            request,
            jobs=bootstrap.jobs(),
            queue=missing,
            idempotency=bootstrap.idempotency(),
            idempotency_key="k-3",
        )
    scan = aws.client("dynamodb").scan(TableName=aws.env["JOBS_TABLE"])["Items"]
    assert [item["status"]["S"] for item in scan] == ["FAILED"]
    assert json.loads(json.dumps(scan[0]["error"]))["M"]["type"]["S"] == "QueueUnavailable"
    # The key was released, so the client's retry makes a new job instead of replaying the failed one.
    retried = _submit("hello", key="k-3")
    assert retried.job_id != scan[0]["job_id"]["S"]
    assert bootstrap.jobs().get(retried.job_id).status is JobStatus.QUEUED  # type: ignore[union-attr]


def test_dispatch_starts_once_and_names_replays_by_attempt(aws: AwsStack) -> None:
    submitted = _submit()
    (message,) = aws.drain("intake", expect=1)
    envelope = JobEnvelope.model_validate_json(message["Body"])
    assert service.dispatch_job(envelope, jobs=bootstrap.jobs(), starter=bootstrap.starter()) == "started"
    assert bootstrap.jobs().get(submitted.job_id).status is JobStatus.RUNNING  # type: ignore[union-attr]
    sfn = aws.client("stepfunctions")
    sfn.stop_execution(
        executionArn=sfn.list_executions(stateMachineArn=aws.env["STATE_MACHINE_ARN"])["executions"][0][
            "executionArn"
        ]
    )
    # Redelivery of the same message: the execution exists already, which counts as started.
    assert (
        service.dispatch_job(envelope, jobs=bootstrap.jobs(), starter=bootstrap.starter())
        == "already_started"
    )
    executions = sfn.list_executions(stateMachineArn=aws.env["STATE_MACHINE_ARN"])["executions"]
    assert [execution["name"] for execution in executions] == [submitted.job_id]
    described = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    assert json.loads(described["input"]) == {"job": envelope.model_dump(mode="json")}

    assert bootstrap.jobs().reset_queued(submitted.job_id, 2)
    retry = envelope.model_copy(update={"attempt": 2})
    assert service.dispatch_job(retry, jobs=bootstrap.jobs(), starter=bootstrap.starter()) == "started"
    names = {
        e["name"] for e in sfn.list_executions(stateMachineArn=aws.env["STATE_MACHINE_ARN"])["executions"]
    }
    assert names == {submitted.job_id, f"{submitted.job_id}-r2"}


def test_dispatch_skips_a_finished_job(aws: AwsStack) -> None:
    submitted = _submit()
    (message,) = aws.drain("intake", expect=1)
    envelope = JobEnvelope.model_validate_json(message["Body"])
    bootstrap.jobs().mark_failed(envelope, {"type": "X", "message": "y"})
    assert service.dispatch_job(envelope, jobs=bootstrap.jobs(), starter=bootstrap.starter()) == "skipped"
    assert (
        aws.client("stepfunctions").list_executions(stateMachineArn=aws.env["STATE_MACHINE_ARN"])[
            "executions"
        ]
        == []
    )
    assert bootstrap.jobs().get(submitted.job_id).status is JobStatus.FAILED  # type: ignore[union-attr]


def test_reads_and_feedback(aws: AwsStack) -> None:
    with pytest.raises(NotFoundError):
        service.get_job("nope", jobs=bootstrap.jobs())
    with pytest.raises(NotFoundError):
        service.get_session("nope", sessions=bootstrap.sessions())
    with pytest.raises(NotFoundError):
        service.add_feedback(
            Feedback(job_id="nope", rating="up"), jobs=bootstrap.jobs(), store=bootstrap.feedback()
        )
    submitted = _submit()
    created = service.add_feedback(
        Feedback(job_id=submitted.job_id, rating="down", comment="wrong"),
        jobs=bootstrap.jobs(),
        store=bootstrap.feedback(),
    )
    items = aws.client("dynamodb").query(
        TableName=aws.env["FEEDBACK_TABLE"],
        KeyConditionExpression="job_id = :j",
        ExpressionAttributeValues={":j": {"S": submitted.job_id}},
    )["Items"]
    assert [(i["feedback_id"]["S"], i["rating"]["S"], i["comment"]["S"]) for i in items] == [
        (created["feedback_id"], "down", "wrong")
    ]
