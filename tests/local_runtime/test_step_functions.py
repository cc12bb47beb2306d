"""State machines on the endpoint: moto's interpreter runs them, Lambda tasks run in the real Lambda host."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from endurance_local.aws_endpoint import AwsEndpoint
from endurance_local.lambda_host import LambdaHost
from endurance_local.model import ACCOUNT_ID, REGION, FunctionSpec

FIXTURES = Path(__file__).parent / "fixtures" / "functions_host"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": REGION}
ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/state-machine"


def arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:sfn-{name}"


def function(name: str, handler: str) -> FunctionSpec:
    return FunctionSpec(
        logical_id=name,
        name=f"sfn-{name}",
        arn=arn(name),
        code_dir=FIXTURES / "steps",
        handler=handler,
        runtime="python3.11",
        timeout=10.0,
        memory_size=128,
        environment={},
    )


FUNCTIONS = {
    "Add": function("Add", "app.add"),
    "Double": function("Double", "app.double"),
    "Flaky": function("Flaky", "app.flaky"),
    "Fails": function("Fails", "app.always_fails"),
    "Route": function("Route", "app.route"),
}


class Stack:
    def __init__(self, endpoint: AwsEndpoint) -> None:
        self.endpoint = endpoint
        self.sfn = self.client("stepfunctions")
        self.sqs = self.client("sqs")
        self.sns = self.client("sns")
        self.dynamodb = self.client("dynamodb")

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint.url, **CREDENTIALS)  # type: ignore[call-overload]

    def state_machine(self, name: str, definition: dict[str, Any]) -> str:
        created = self.sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)
        return str(created["stateMachineArn"])

    def run(self, machine: str, name: str, payload: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        started = self.sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(payload))
        deadline = time.monotonic() + timeout
        while True:
            described: dict[str, Any] = self.sfn.describe_execution(executionArn=started["executionArn"])
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                return described
            time.sleep(0.05)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        paginator = self.sfn.get_paginator("get_execution_history")
        for page in paginator.paginate(executionArn=execution_arn):
            events.extend(page["events"])
        return events


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    endpoint = AwsEndpoint(port=0)
    endpoint.start()
    host = LambdaHost(FUNCTIONS, base_env={"AWS_ENDPOINT_URL": endpoint.url})
    endpoint.set_invoker(host)
    try:
        yield Stack(endpoint)
    finally:
        host.close()
        endpoint.stop()


def pipeline_definition(queue_url: str, topic_arn: str, table: str) -> dict[str, Any]:
    transient_retry = [
        {"ErrorEquals": ["TransientError"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 1}
    ]
    return {
        "StartAt": "Add",
        "States": {
            "Add": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": arn("Add"), "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "Next": "Flaky",
            },
            "Flaky": {
                "Type": "Task",
                "Resource": arn("Flaky"),
                "Parameters": {"counter_file.$": "$.counter_file", "fail_times.$": "$.fail_times"},
                "ResultPath": "$.flaky",
                "Retry": transient_retry,
                "Next": "Route",
            },
            "Route": {
                "Type": "Task",
                "Resource": arn("Route"),
                "Parameters": {"value.$": "$.sum"},
                "ResultPath": "$.route",
                "Next": "IsBig",
            },
            "IsBig": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.route.kind", "StringEquals": "big", "Next": "Big"}],
                "Default": "Small",
            },
            "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "Next": "FanOut"},
            "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "Next": "FanOut"},
            "FanOut": {
                "Type": "Parallel",
                "ResultPath": "$.parallel",
                "Branches": [
                    {
                        "StartAt": "DoubleEach",
                        "States": {
                            "DoubleEach": {
                                "Type": "Map",
                                "ItemsPath": "$.items",
                                "MaxConcurrency": 2,
                                "Iterator": {
                                    "StartAt": "Double",
                                    "States": {
                                        "Double": {"Type": "Task", "Resource": arn("Double"), "End": True}
                                    },
                                },
                                "End": True,
                            }
                        },
                    },
                    {
                        "StartAt": "Label",
                        "States": {
                            "Label": {"Type": "Pass", "Parameters": {"label.$": "$.size"}, "End": True}
                        },
                    },
                ],
                "Next": "Enqueue",
            },
            "Enqueue": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"QueueUrl": queue_url, "MessageBody.$": "States.JsonToString($.route)"},
                "ResultPath": None,
                "Next": "Announce",
            },
            "Announce": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn": topic_arn, "Message.$": "States.Format('sum is {}', $.sum)"},
                "ResultPath": None,
                "Next": "Store",
            },
            "Store": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {
                    "TableName": table,
                    "Item": {"id": {"S.$": "$$.Execution.Name"}, "size": {"S.$": "$.size"}},
                },
                "ResultPath": None,
                "Next": "Load",
            },
            "Load": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": table, "Key": {"id": {"S.$": "$$.Execution.Name"}}},
                "ResultSelector": {"size.$": "$.Item.size.S"},
                "ResultPath": "$.stored",
                "End": True,
            },
        },
    }


def test_pipeline_with_retries_choice_map_parallel_and_service_integrations(
    stack: Stack, tmp_path: Path
) -> None:
    queue_url = stack.sqs.create_queue(QueueName="sfn-results")["QueueUrl"]
    topic_arn = stack.sns.create_topic(Name="sfn-events")["TopicArn"]
    topic_queue = stack.sqs.create_queue(QueueName="sfn-topic-copy")["QueueUrl"]
    topic_queue_arn = stack.sqs.get_queue_attributes(QueueUrl=topic_queue, AttributeNames=["QueueArn"])
    stack.sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=topic_queue_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    stack.dynamodb.create_table(
        TableName="sfn-store",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    machine = stack.state_machine("pipeline", pipeline_definition(queue_url, topic_arn, "sfn-store"))
    counter = tmp_path / "flaky-calls"
    payload = {"a": 7, "b": 8, "items": [1, 2, 3], "counter_file": str(counter), "fail_times": 2}

    execution = stack.run(machine, "job-0001", payload)

    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    assert output["sum"] == 15
    assert output["flaky"] == {"attempts": 3}
    assert output["route"] == {"kind": "big", "value": 15}
    assert output["size"] == "big"
    assert output["parallel"] == [[2, 4, 6], {"label": "big"}]
    assert output["stored"] == {"size": "big"}
    assert counter.read_text().splitlines() == ["call"] * 3

    messages = stack.sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0)["Messages"]
    assert [json.loads(message["Body"]) for message in messages] == [{"kind": "big", "value": 15}]
    published = stack.sqs.receive_message(QueueUrl=topic_queue, WaitTimeSeconds=0)["Messages"]
    assert [message["Body"] for message in published] == ["sum is 15"]
    item = stack.dynamodb.get_item(TableName="sfn-store", Key={"id": {"S": "job-0001"}})["Item"]
    assert item["size"] == {"S": "big"}

    history = stack.history(execution["executionArn"])
    types = [event["type"] for event in history]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    failures = [
        event["lambdaFunctionFailedEventDetails"]
        for event in history
        if event["type"] == "LambdaFunctionFailed"
    ]
    assert [failure["error"] for failure in failures] == ["TransientError", "TransientError"]
    assert "attempt 1 failed" in failures[0]["cause"]
    entered = [
        event["stateEnteredEventDetails"]["name"]
        for event in history
        if event["type"].endswith("StateEntered")
    ]
    assert entered[:4] == ["Add", "Flaky", "Route", "IsBig"]
    assert "Small" not in entered and {"Big", "FanOut", "DoubleEach", "Label", "Store", "Load"} <= set(
        entered
    )


def test_small_values_take_the_other_choice(stack: Stack, tmp_path: Path) -> None:
    definition = pipeline_definition("unused", "unused", "unused")
    definition["States"]["Small"]["Next"] = "Done"
    definition["States"]["Done"] = {"Type": "Succeed"}
    machine = stack.state_machine("choice", definition)
    payload = {"a": 1, "b": 2, "items": [], "counter_file": str(tmp_path / "calls"), "fail_times": 0}

    execution = stack.run(machine, "job-0002", payload)

    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"])["size"] == "small"


def test_catch_routes_an_error_by_name_and_keeps_the_input(stack: Stack) -> None:
    machine = stack.state_machine(
        "catching",
        {
            "StartAt": "Work",
            "States": {
                "Work": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": arn("Fails"), "Payload.$": "$"},
                    "Retry": [{"ErrorEquals": ["TransientError"], "IntervalSeconds": 1, "MaxAttempts": 2}],
                    "Catch": [
                        {"ErrorEquals": ["PermanentError"], "ResultPath": "$.error", "Next": "MarkFailed"}
                    ],
                    "End": True,
                },
                "MarkFailed": {"Type": "Pass", "Parameters": {"job.$": "$.job", "failed": True}, "End": True},
            },
        },
    )

    execution = stack.run(machine, "job-0003", {"job": {"job_id": "job-0003"}})

    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"]) == {"job": {"job_id": "job-0003"}, "failed": True}
    history = stack.history(execution["executionArn"])
    failed = [event["taskFailedEventDetails"] for event in history if event["type"] == "TaskFailed"]
    assert len(failed) == 1  # TransientError's Retry does not match PermanentError
    assert failed[0]["error"] == "PermanentError"
    assert json.loads(failed[0]["cause"])["errorMessage"] == "this input can never succeed"


def test_uncaught_error_fails_the_execution_with_the_error_name(stack: Stack) -> None:
    machine = stack.state_machine(
        "uncaught",
        {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": arn("Fails"), "End": True}}},
    )

    execution = stack.run(machine, "job-0004", {})

    assert execution["status"] == "FAILED"
    assert execution["error"] == "PermanentError"
    assert json.loads(execution["cause"])["errorType"] == "PermanentError"


def test_time_per_state_transition(stack: Stack) -> None:
    names = [f"Step{index:02d}" for index in range(12)]
    states: dict[str, Any] = {}
    for index, name in enumerate(names):
        state: dict[str, Any] = {
            "Type": "Task",
            "Resource": arn("Add"),
            "Parameters": {"a.$": "$.sum", "b": 1},
        }
        if index + 1 < len(names):
            state["Next"] = names[index + 1]
        else:
            state["End"] = True
        states[name] = state
    machine = stack.state_machine("chain", {"StartAt": names[0], "States": states})

    execution = stack.run(machine, "job-0005", {"sum": 0})

    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"])["sum"] == len(names)
    history = stack.history(execution["executionArn"])
    entered = [event for event in history if event["type"] == "TaskStateEntered"]
    assert len(entered) == len(names)  # transition cost per state: bench/local_runtime.py
