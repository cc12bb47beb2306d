"""provision(): resources created in a real moto server on loopback, checked with boto3."""

from __future__ import annotations

import json
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from endurance_local.model import Deployment, TemplateError
from endurance_local.provision import creation_order, provision
from endurance_local.template import build_deployment

from tests.support import moto_server

FIXTURE = Path(__file__).parent / "fixtures" / "templates" / "provision_app.yaml"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    yield from moto_server()


def reset_moto(endpoint: str) -> None:
    urllib.request.urlopen(
        urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=5
    ).close()


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def deployed(moto_endpoint: str) -> Deployment:
    reset_moto(moto_endpoint)
    deployment = build_deployment(FIXTURE, aws_endpoint=moto_endpoint)
    provision(deployment, moto_endpoint)
    return deployment


def receive_all(sqs: Any, queue_url: str, wait_s: float = 1.0) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        ).get("Messages", [])
        messages += batch
        if not batch:
            time.sleep(0.05)
    return messages


def test_dead_letter_queue_is_created_before_the_queue_that_names_it(moto_endpoint: str) -> None:
    order = [r.logical_id for r in creation_order(build_deployment(FIXTURE, aws_endpoint=moto_endpoint))]
    assert order.index("JobsDeadLetterQueue") < order.index("JobsQueue")
    assert order.index("EventsTopic") < order.index("AuditSubscription")
    assert order.index("AuditQueue") < order.index("AuditSubscription")
    assert order.index("JobBus") < order.index("ForwardRule")


def test_queues_with_redrive_policy_and_fifo(deployed: Deployment, moto_endpoint: str) -> None:
    sqs = client("sqs", moto_endpoint)
    jobs = deployed.resources["JobsQueue"]
    attributes = sqs.get_queue_attributes(QueueUrl=jobs.url, AttributeNames=["All"])["Attributes"]
    assert attributes["QueueArn"] == jobs.arn
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": deployed.resources["JobsDeadLetterQueue"].arn,
        "maxReceiveCount": 3,
    }
    assert (
        attributes["VisibilityTimeout"],
        attributes["ReceiveMessageWaitTimeSeconds"],
        attributes["MaximumMessageSize"],
    ) == ("45", "1", "65536")
    assert sqs.list_queue_tags(QueueUrl=jobs.url)["Tags"] == {"app": "endurance"}
    # The URL build_deployment predicted is the one moto hands out.
    assert sqs.get_queue_url(QueueName=jobs.physical_name)["QueueUrl"] == jobs.url

    fifo = deployed.resources["OrderedQueue"]
    assert fifo.physical_name == "local-OrderedQueue.fifo"
    fifo_attributes = sqs.get_queue_attributes(QueueUrl=fifo.url, AttributeNames=["All"])["Attributes"]
    assert fifo_attributes["FifoQueue"] == "true"
    assert fifo_attributes["ContentBasedDeduplication"] == "true"


def test_dead_letter_redrive_moves_messages(deployed: Deployment, moto_endpoint: str) -> None:
    sqs = client("sqs", moto_endpoint)
    jobs_url = str(deployed.resources["JobsQueue"].url)
    dlq_url = str(deployed.resources["JobsDeadLetterQueue"].url)
    sqs.send_message(QueueUrl=jobs_url, MessageBody="poison")
    for _ in range(3):
        [message] = sqs.receive_message(QueueUrl=jobs_url, VisibilityTimeout=0)["Messages"]
        assert message["Body"] == "poison"
    assert sqs.receive_message(QueueUrl=jobs_url).get("Messages") is None
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=dlq_url)["Messages"]] == ["poison"]


def test_sns_subscription_raw_delivery_and_filter_policies(deployed: Deployment, moto_endpoint: str) -> None:
    sns = client("sns", moto_endpoint)
    sqs = client("sqs", moto_endpoint)
    topic_arn = deployed.resources["EventsTopic"].arn

    def publish(event_type: str, status: str) -> None:
        sns.publish(
            TopicArn=topic_arn,
            Message=json.dumps({"type": event_type, "status": status}),
            MessageAttributes={"type": {"DataType": "String", "StringValue": event_type}},
        )

    publish("StepStarted", "RUNNING")
    publish("JobCompleted", "COMPLETED")
    publish("JobFailed", "FAILED")

    audit = receive_all(sqs, str(deployed.resources["AuditQueue"].url))
    # Raw delivery: the body is the published message itself, not an SNS envelope.
    assert [json.loads(m["Body"]) for m in audit] == [{"type": "JobCompleted", "status": "COMPLETED"}]
    body_filtered = receive_all(sqs, str(deployed.resources["BodyFilteredQueue"].url))
    assert [json.loads(m["Body"])["type"] for m in body_filtered] == ["JobFailed"]
    # The inline Subscription has no filter and no raw delivery: every message, in an SNS envelope.
    everything = receive_all(sqs, str(deployed.resources["AllEventsQueue"].url))
    envelopes = [json.loads(m["Body"]) for m in everything]
    assert sorted(json.loads(e["Message"])["type"] for e in envelopes) == [
        "JobCompleted",
        "JobFailed",
        "StepStarted",
    ]
    assert {e["TopicArn"] for e in envelopes} == {topic_arn}


def test_dynamodb_table_with_gsi_stream_and_ttl(deployed: Deployment, moto_endpoint: str) -> None:
    dynamodb = client("dynamodb", moto_endpoint)
    table = deployed.resources["ConnectionsTable"]
    description = dynamodb.describe_table(TableName=table.physical_name)["Table"]
    assert [i["IndexName"] for i in description["GlobalSecondaryIndexes"]] == ["by_job"]
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table.attributes["StreamArn"] == description["LatestStreamArn"]
    ttl = dynamodb.describe_time_to_live(TableName=table.physical_name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    dynamodb.put_item(
        TableName=table.physical_name,
        Item={"connection_id": {"S": "c1"}, "sk": {"S": "job#j1"}, "job_id": {"S": "j1"}},
    )
    items = dynamodb.query(
        TableName=table.physical_name,
        IndexName="by_job",
        KeyConditionExpression="job_id = :j",
        ExpressionAttributeValues={":j": {"S": "j1"}},
    )
    assert items["Count"] == 1

    simple = dynamodb.describe_table(TableName=deployed.resources["CountersTable"].physical_name)["Table"]
    assert simple["KeySchema"] == [{"AttributeName": "counter", "KeyType": "HASH"}]


def test_bucket_exists_without_moto_notifications(deployed: Deployment, moto_endpoint: str) -> None:
    s3 = client("s3", moto_endpoint)
    bucket = str(deployed.resources["DocumentsBucket"].physical_name)
    assert bucket == "local-documentsbucket"
    s3.head_bucket(Bucket=bucket)
    configuration = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert not configuration.get("QueueConfigurations")
    assert [s.bucket for s in deployed.s3_sources] == [bucket]


def test_eventbridge_rule_delivers_to_sqs_target(deployed: Deployment, moto_endpoint: str) -> None:
    events = client("events", moto_endpoint)
    sqs = client("sqs", moto_endpoint)
    bus = deployed.resources["JobBus"].physical_name
    assert bus == "local-JobBus"
    result = events.put_events(
        Entries=[
            {
                "Source": "endurance.jobs",
                "DetailType": "JobCompleted",
                "Detail": '{"job_id": "j1"}',
                "EventBusName": bus,
            },
            {
                "Source": "endurance.jobs",
                "DetailType": "StepStarted",
                "Detail": '{"job_id": "j2"}',
                "EventBusName": bus,
            },
        ]
    )
    assert result["FailedEntryCount"] == 0
    delivered = receive_all(sqs, str(deployed.resources["RuleTargetQueue"].url))
    assert [json.loads(m["Body"])["detail"] for m in delivered] == [{"job_id": "j1"}]


def test_state_machine_created_with_substitutions(deployed: Deployment, moto_endpoint: str) -> None:
    stepfunctions = client("stepfunctions", moto_endpoint)
    machine = deployed.resources["Machine"]
    described = stepfunctions.describe_state_machine(stateMachineArn=machine.arn)
    assert described["name"] == "local-Machine"
    assert described["type"] == "EXPRESS"
    definition = json.loads(described["definition"])
    assert (
        definition["States"]["Send"]["Parameters"]["QueueUrl"]
        == deployed.resources["JobsDeadLetterQueue"].url
    )


def test_provision_on_a_reset_moto_recreates_everything(moto_endpoint: str) -> None:
    reset_moto(moto_endpoint)
    deployment = build_deployment(FIXTURE, aws_endpoint=moto_endpoint, stack_name="again")
    provision(deployment, moto_endpoint)
    reset_moto(moto_endpoint)
    provision(deployment, moto_endpoint)
    queues = client("sqs", moto_endpoint).list_queues(QueueNamePrefix="again-")["QueueUrls"]
    assert len(queues) == 7
    tables = client("dynamodb", moto_endpoint).list_tables()["TableNames"]
    assert sorted(tables) == ["again-ConnectionsTable", "again-CountersTable"]


def test_boto3_failures_name_the_resource(tmp_path: Path, moto_endpoint: str) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        textwrap.dedent("""
        Resources:
          BrokenTable:
            Type: AWS::DynamoDB::Table
            Properties:
              BillingMode: PAY_PER_REQUEST
              AttributeDefinitions:
                - {AttributeName: pk, AttributeType: S}
              KeySchema:
                - {AttributeName: missing, KeyType: HASH}
    """)
    )
    with pytest.raises(
        TemplateError, match=r"^BrokenTable: creating AWS::DynamoDB::Table local-BrokenTable failed"
    ):
        provision(build_deployment(path, aws_endpoint=moto_endpoint), moto_endpoint)
