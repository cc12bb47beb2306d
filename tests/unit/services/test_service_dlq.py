"""DLQ discovery and replay against real SQS queues (moto server)."""

from __future__ import annotations

import json

import pytest
from endurance import bootstrap
from endurance.domain.errors import ConfigurationError, NotFoundError
from endurance.domain.models import Job, JobEnvelope, JobStatus, utc_now
from endurance.services import dlq

from tests.unit.services.endurance_aws_stack import AwsStack


def test_list_finds_redrive_and_tagged_dlqs(aws: AwsStack) -> None:
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=aws.queue_url("intake-dlq"), MessageBody="{}")
    found = {entry["queue"]: entry for entry in dlq.list_dlqs(sqs)}
    assert set(found) == {"intake-dlq", "failed-jobs"}
    assert found["intake-dlq"]["source"] == "intake" and found["intake-dlq"]["messages"] == 1
    assert found["failed-jobs"]["source"] == "intake" and found["failed-jobs"]["url"] == aws.queue_url(
        "failed-jobs"
    )


def test_replay_moves_messages_back_keeping_attributes(aws: AwsStack) -> None:
    sqs = aws.client("sqs")
    for n in range(3):
        sqs.send_message(
            QueueUrl=aws.queue_url("intake-dlq"),
            MessageBody=f"not json {n}",
            MessageAttributes={
                "origin": {"DataType": "String", "StringValue": "test"},
                "replay_count": {"DataType": "Number", "StringValue": "1"},
            },
        )
    dry = dlq.replay(sqs, "intake-dlq", max_messages=10, dry_run=True)
    assert (dry["replayed"], dry["dry_run"], len(dry["messages"])) == (0, True, 3)
    assert aws.drain("intake") == []

    report = dlq.replay(sqs, aws.queue_url("intake-dlq"), max_messages=2)
    assert (report["queue"], report["source"], report["replayed"]) == ("intake-dlq", "intake", 2)
    moved = aws.drain("intake", expect=2)
    assert sorted(m["Body"] for m in moved)[0].startswith("not json")
    assert all(m["MessageAttributes"]["origin"]["StringValue"] == "test" for m in moved)
    assert all(m["MessageAttributes"]["replay_count"]["StringValue"] == "2" for m in moved)
    assert len(aws.drain("intake-dlq", expect=1)) == 1


def test_replaying_a_failed_job_requeues_it_with_the_next_attempt(aws: AwsStack) -> None:
    envelope = JobEnvelope(job_id="job-7", question="q?", session_id="s", created_at=utc_now())
    jobs = bootstrap.jobs()
    jobs.create(
        Job(
            job_id="job-7",
            status=JobStatus.RUNNING,
            question="q?",
            session_id="s",
            created_at=envelope.created_at,
        )
    )
    jobs.mark_failed(envelope, {"type": "FaultInjected", "message": "boom"})
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=aws.queue_url("failed-jobs"), MessageBody=envelope.model_dump_json())

    report = dlq.replay(sqs, "failed-jobs", jobs=jobs)
    assert report["messages"][0]["job_id"] == "job-7" and report["replayed"] == 1
    (message,) = aws.drain("intake", expect=1)
    assert json.loads(message["Body"])["attempt"] == 2
    assert message["MessageAttributes"]["replay_count"]["StringValue"] == "1"
    job = jobs.get("job-7")
    assert job is not None and job.status is JobStatus.QUEUED and job.attempt == 2 and job.error is None


def test_replay_of_a_queue_that_is_no_dlq_is_refused(aws: AwsStack) -> None:
    with pytest.raises(NotFoundError):
        dlq.replay(aws.client("sqs"), "intake")


def test_replay_filtered_by_job_id_leaves_the_other_jobs_waiting_and_is_rate_limited(aws: AwsStack) -> None:
    sqs = aws.client("sqs")
    for job_id in ("job-a", "job-b", "job-c"):
        envelope = JobEnvelope(job_id=job_id, question="q?", session_id="s", created_at=utc_now())
        sqs.send_message(QueueUrl=aws.queue_url("failed-jobs"), MessageBody=envelope.model_dump_json())
        sqs.send_message(QueueUrl=aws.queue_url("failed-jobs"), MessageBody=envelope.model_dump_json())
    pauses: list[float] = []

    report = dlq.replay(sqs, "failed-jobs", job_id="job-b", per_second=4, sleep=pauses.append)

    assert report["replayed"] == 2
    assert {m["job_id"] for m in report["messages"]} == {"job-b"}
    assert pauses == [0.25]
    replayed = aws.drain("intake", expect=2)
    assert {json.loads(m["Body"])["job_id"] for m in replayed} == {"job-b"}
    left = aws.drain("failed-jobs", expect=4)
    assert sorted(json.loads(m["Body"])["job_id"] for m in left) == ["job-a", "job-a", "job-c", "job-c"]


def test_replay_filtered_by_job_id_also_matches_job_events(aws: AwsStack) -> None:
    sqs = aws.client("sqs")
    dlq_url = aws.queue_url("intake-dlq")
    for job_id in ("job-x", "job-y"):
        event = {"event_id": f"e-{job_id}", "type": "JobCompleted", "job_id": job_id, "status": "COMPLETED"}
        sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps(event))
    sqs.send_message(QueueUrl=dlq_url, MessageBody="not json at all")

    report = dlq.replay(sqs, "intake-dlq", job_id="job-y")

    assert report["replayed"] == 1
    (moved,) = aws.drain("intake", expect=1)
    assert json.loads(moved["Body"])["job_id"] == "job-y"
    assert len(aws.drain("intake-dlq", expect=2)) == 2


def _function_dlq(aws: AwsStack) -> str:
    sqs = aws.client("sqs")
    return sqs.create_queue(
        QueueName="ingest-dlq", tags={dlq.REPLAY_FUNCTION_TAG: "stack-ingest"}
    )["QueueUrl"]


def test_a_functions_dlq_is_listed_with_the_function_it_replays_into(aws: AwsStack) -> None:
    url = _function_dlq(aws)
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"Records": []}))
    found = {entry["queue"]: entry for entry in dlq.list_dlqs(sqs)}
    assert found["ingest-dlq"] == {
        "queue": "ingest-dlq",
        "url": url,
        "source": "stack-ingest",
        "source_url": "",
        "source_type": "function",
        "messages": 1,
    }
    assert found["intake-dlq"]["source_type"] == "queue"


def test_replaying_a_functions_dlq_needs_a_lambda_client_and_keeps_what_it_cannot_replay(
    aws: AwsStack,
) -> None:
    url = _function_dlq(aws)
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"Records": [{"s3": {}}]}))
    sqs.send_message(QueueUrl=url, MessageBody="typed by hand")
    # A dry run looks, needs no client and moves nothing.
    dry = dlq.replay(sqs, "ingest-dlq", dry_run=True)
    assert (dry["source"], dry["replayed"], len(dry["messages"])) == ("stack-ingest", 0, 2)
    with pytest.raises(ConfigurationError, match="stack-ingest"):
        dlq.replay(sqs, "ingest-dlq")
    assert len(aws.drain("ingest-dlq", expect=2)) == 2, "nothing may be lost when the replay cannot start"
