"""Lint of statemachines/chat.asl.json against what moto's interpreter runs and what the design promises.

moto 5.2.5 (the local runtime's Step Functions) runs JSONPath only: JSONata, variables, `&&`/`||`
filters and states:startExecution fail there at run time, so they are rejected here. Every Task retries
transient errors and is caught; every route of the domain's Route enum goes where DESIGN.md §1 says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from endurance.domain.models import Route

ROOT = Path(__file__).resolve().parents[2]
ASL_PATH = ROOT / "statemachines" / "chat.asl.json"

TRANSIENT_ERRORS = {
    "TransientError",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Sandbox.Timedout",
}
STEP_STATES = ("Classify", "Retrieve", "Answer", "Evaluate", "Persist")
# Fields that hold a JSONPath (or a reference path) in JSONPath-mode ASL.
PATH_FIELDS = {"InputPath", "OutputPath", "ResultPath", "ItemsPath", "Variable", "ErrorPath", "CausePath"}
# Fields that only exist in JSONata mode or for variables.
JSONATA_ONLY_FIELDS = {"Arguments", "Output", "Assign", "Condition", "Items"}
JSONPATH_EXPRESSION = re.compile(r"^(\$|\$\$)(\.[A-Za-z_][\w-]*|\[\d+\]|\[\*\]|\.\*)*$")


def load_definition() -> dict[str, Any]:
    return json.loads(ASL_PATH.read_text(encoding="utf-8"))


def walk(value: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(where, key, value) for every key of every object, depth first."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield path, key, inner
            yield from walk(inner, f"{path}/{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from walk(inner, f"{path}[{index}]")


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from strings(inner)


def successors(state: dict[str, Any]) -> set[str]:
    targets = {state["Next"]} if "Next" in state else set()
    targets |= {catcher["Next"] for catcher in state.get("Catch", [])}
    targets |= {choice["Next"] for choice in state.get("Choices", [])}
    if "Default" in state:
        targets.add(state["Default"])
    return targets


def route_path(definition: dict[str, Any], route: str) -> list[str]:
    """The states a job with this classification route passes through when every step succeeds."""
    states = definition["States"]
    path, name = [], definition["StartAt"]
    while True:
        path.append(name)
        state = states[name]
        if state["Type"] in ("Succeed", "Fail"):
            return path
        if state["Type"] == "Choice":
            matches = [c["Next"] for c in state["Choices"] if c["StringEquals"] == route]
            name = matches[0] if matches else state["Default"]
        else:
            name = state["Next"]


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    return load_definition()


def test_definition_is_jsonpath_only(definition: dict[str, Any]) -> None:
    assert definition.get("QueryLanguage", "JSONPath") == "JSONPath"
    for where, key, value in walk(definition):
        assert key != "QueryLanguage" or value == "JSONPath", f"{where}: JSONata is not run locally"
        if where.count("/") == 2 and where.startswith("/States/"):
            assert key not in JSONATA_ONLY_FIELDS, f"{where}: {key} is JSONata/variables only"
        if key.endswith(".$") or key in PATH_FIELDS:
            if value is None:
                continue
            assert isinstance(value, str), f"{where}/{key}"
            assert value.startswith("States.") or JSONPATH_EXPRESSION.match(value), (
                f"{where}/{key}: {value!r} is not a plain JSONPath (no variables or filters locally)"
            )
    for text in strings(definition):
        assert "{%" not in text, f"JSONata expression {text!r}"
        assert "&&" not in text and "||" not in text, f"logical filter {text!r}"


def test_definition_starts_no_nested_executions(definition: dict[str, Any]) -> None:
    resources = {state.get("Resource") for state in definition["States"].values()}
    assert not any("states:startExecution" in (r or "") for r in resources)
    assert resources - {None} == {"arn:aws:states:::lambda:invoke", "arn:aws:states:::sqs:sendMessage"}


def test_every_target_exists_and_every_state_is_reachable(definition: dict[str, Any]) -> None:
    states = definition["States"]
    assert definition["StartAt"] in states
    for name, state in states.items():
        assert successors(state) <= set(states), f"{name} points at a missing state"
        if state["Type"] not in ("Succeed", "Fail", "Choice"):
            assert "Next" in state or state.get("End") is True, f"{name} is a dead end"
    reachable, frontier = set(), [definition["StartAt"]]
    while frontier:
        name = frontier.pop()
        if name not in reachable:
            reachable.add(name)
            frontier.extend(successors(states[name]))
    assert reachable == set(states), f"unreachable: {set(states) - reachable}"


def test_every_task_retries_transient_errors_and_is_caught(definition: dict[str, Any]) -> None:
    tasks = {name: state for name, state in definition["States"].items() if state["Type"] == "Task"}
    assert set(STEP_STATES) | {"MarkFailed", "EnqueueFailedJob"} == set(tasks)
    for name, task in tasks.items():
        assert task.get("Retry"), f"{name} has no Retry"
        assert task.get("Catch"), f"{name} has no Catch"
        retried = {error for retrier in task["Retry"] for error in retrier["ErrorEquals"]}
        assert retried >= TRANSIENT_ERRORS or "States.ALL" in retried, f"{name} misses transient errors"
        for retrier in task["Retry"]:
            # moto waits in real time: retries must stay short for the local runtime and tests.
            assert retrier["IntervalSeconds"] * retrier["BackoffRate"] ** (retrier["MaxAttempts"] - 1) <= 4
        (catcher,) = task["Catch"]
        assert catcher["ErrorEquals"] == ["States.ALL"]
        assert catcher["ResultPath"].startswith("$."), f"{name}: the Catch must keep the state (and $.job)"


def test_steps_are_lambda_invokes_of_their_own_function(definition: dict[str, Any]) -> None:
    for name in STEP_STATES:
        state = definition["States"][name]
        assert state["Resource"] == "arn:aws:states:::lambda:invoke"
        assert state["Parameters"] == {"FunctionName": f"${{{name}FunctionArn}}", "Payload.$": "$"}
        assert state["OutputPath"] == "$.Payload"
        assert state["Catch"][0] == {
            "ErrorEquals": ["States.ALL"],
            "ResultPath": "$.error",
            "Next": "MarkFailed",
        }
        (retrier,) = state["Retry"]
        assert set(retrier.pop("ErrorEquals")) == TRANSIENT_ERRORS
        assert retrier == {"IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2}


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (Route.RAG, ["Classify", "Route", "Retrieve", "Answer", "Evaluate", "Persist", "Done"]),
        (Route.DIRECT, ["Classify", "Route", "Answer", "Evaluate", "Persist", "Done"]),
        (Route.HUMAN_REVIEW, ["Classify", "Route", "Persist", "Done"]),
        (Route.BLOCKED, ["Classify", "Route", "Persist", "Done"]),
        ("something_new", ["Classify", "Route", "Retrieve", "Answer", "Evaluate", "Persist", "Done"]),
    ],
)
def test_routes_follow_the_design(definition: dict[str, Any], route: str, expected: list[str]) -> None:
    assert route_path(definition, str(route)) == expected


def test_every_domain_route_is_handled_explicitly(definition: dict[str, Any]) -> None:
    choice = definition["States"]["Route"]
    assert {c["Variable"] for c in choice["Choices"]} == {"$.classification.route"}
    assert {c["StringEquals"] for c in choice["Choices"]} == {route.value for route in Route}


def test_failure_path_marks_the_job_then_parks_the_envelope(definition: dict[str, Any]) -> None:
    states = definition["States"]
    mark = states["MarkFailed"]
    assert mark["Parameters"] == {"FunctionName": "${FailFunctionArn}", "Payload.$": "$"}
    # The fail function's reply goes beside the state, so $.job is still there for the queue.
    assert mark["ResultPath"] not in ("$", None) and not mark["ResultPath"].startswith("$.job")
    assert mark["Next"] == "EnqueueFailedJob"
    assert mark["Catch"][0]["Next"] == "EnqueueFailedJob"
    enqueue = states["EnqueueFailedJob"]
    # The failed-jobs message is a job envelope, like an intake message, so replay can send it back as is.
    assert enqueue["Parameters"] == {"QueueUrl": "${FailedJobsQueueUrl}", "MessageBody.$": "$.job"}
    assert enqueue["Next"] == "JobFailed"
    assert (states["JobFailed"]["Type"], states["JobFailed"]["Error"]) == ("Fail", "JobFailed")
    assert states[enqueue["Catch"][0]["Next"]]["Type"] == "Fail"


def test_substitutions_match_the_template_exactly(
    definition: dict[str, Any], template: dict[str, Any]
) -> None:
    machine = template["Resources"]["ChatStateMachine"]["Properties"]
    assert machine["DefinitionUri"] == "statemachines/chat.asl.json"
    assert machine["Type"] == "EXPRESS"
    used = {name for text in strings(definition) for name in re.findall(r"\$\{([^}]+)\}", text)}
    provided = machine["DefinitionSubstitutions"]
    assert used == set(provided), "every ${...} needs a DefinitionSubstitutions entry, and no entry is unused"
    for name in (*STEP_STATES, "Fail"):
        assert provided[f"{name}FunctionArn"] == {"Fn::GetAtt": [f"{name}Function", "Arn"]}
    assert provided["FailedJobsQueueUrl"] == {"Ref": "FailedJobsQueue"}
