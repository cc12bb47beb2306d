"""The chat state machine really runs on moto's ASL interpreter (the local runtime's Step Functions).

moto serves on a free loopback port behind a thin WSGI front that answers Lambda Invoke itself, as the
local runtime does (docs: DESIGN.md §3). The step "Lambdas" here are small functions that honour the
state contract of docs/architecture.md, so this test is about the definition: routing, Retry on a
transient error, Catch -> MarkFailed -> the failed-jobs queue with the original job envelope.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT = "123456789012"
INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")
Step = Callable[[dict[str, Any]], dict[str, Any]]


class StepFunctionsLab:
    """moto on loopback plus in-process step functions the interpreter invokes by name."""

    def __init__(self) -> None:
        self.steps: dict[str, Step] = {}
        self.calls: list[str] = []
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        match = INVOKE_PATH.match(environ.get("PATH_INFO", ""))
        if not match or environ["REQUEST_METHOD"] != "POST":
            return self._moto(environ, start_response)
        name = match["name"].split(":")[6] if match["name"].startswith("arn:") else match["name"]
        self.calls.append(name)
        payload = json.loads(Request(environ).get_data() or b"null")
        try:
            reply, headers = self.steps[name](payload), {}
        except Exception as error:  # the Lambda service reports a raised error as an Unhandled function error
            reply = {"errorType": type(error).__name__, "errorMessage": str(error)}
            headers = {"X-Amz-Function-Error": "Unhandled"}
        return Response(json.dumps(reply), 200, headers, content_type="application/json")(
            environ, start_response
        )

    def __enter__(self) -> StepFunctionsLab:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=f"http://127.0.0.1:{self.port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


class TransientError(Exception):
    """Named like the core's error, which the definition retries."""


class ModelRefused(Exception):
    """A non-transient failure: caught, never retried."""


@pytest.fixture
def lab(monkeypatch: pytest.MonkeyPatch) -> Iterator[StepFunctionsLab]:
    with StepFunctionsLab() as running:
        # moto's interpreter calls Lambda at localhost:$MOTO_PORT, read at call time.
        monkeypatch.setenv("MOTO_PORT", str(running.port))
        _moto_api(running, "config", {"stepfunctions": {"execute_state_machine": True}})
        try:
            yield running
        finally:
            _moto_api(running, "config", {"stepfunctions": {"execute_state_machine": False}})
            _moto_api(running, "reset", None)


def _moto_api(lab: StepFunctionsLab, action: str, body: dict[str, Any] | None) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{lab.port}/moto-api/{action}",
        data=json.dumps(body or {}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


def adds(key: str, value: Any) -> Step:
    return lambda state: {**state, key: value}


def deploy(lab: StepFunctionsLab) -> tuple[str, str]:
    """Create the failed-jobs queue and the state machine with the template's substitutions resolved."""
    queue_url = lab.client("sqs").create_queue(QueueName="endurance-FailedJobsQueue")["QueueUrl"]
    definition = (ROOT / "statemachines" / "chat.asl.json").read_text(encoding="utf-8")
    substitutions = {
        f"{step}FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:endurance-{step.lower()}"
        for step in ("Classify", "Retrieve", "Answer", "Evaluate", "Persist", "Fail")
    } | {"FailedJobsQueueUrl": queue_url}
    for name, value in substitutions.items():
        definition = definition.replace(f"${{{name}}}", value)
    assert "${" not in definition
    machine = lab.client("stepfunctions").create_state_machine(
        name="endurance-chat",
        definition=definition,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/endurance-chat",
        type="EXPRESS",
    )
    return machine["stateMachineArn"], queue_url


def happy_steps(lab: StepFunctionsLab, route: str) -> None:
    lab.steps.update(
        {
            "endurance-classify": adds(
                "classification", {"route": route, "confidence": 0.9, "reason": "test"}
            ),
            "endurance-retrieve": adds("retrieval", {"chunks": []}),
            "endurance-answer": adds("answer", {"text": "Hello.", "sources": [], "refusal": False}),
            "endurance-evaluate": adds("evaluation", {"verdict": "pass", "reasons": []}),
            "endurance-persist": adds("result", {"status": "COMPLETED"}),
            "endurance-fail": adds("result", {"status": "FAILED"}),
        }
    )


def run(lab: StepFunctionsLab, machine_arn: str, job_id: str) -> dict[str, Any]:
    sfn = lab.client("stepfunctions")
    envelope = {
        "job": {
            "job_id": job_id,
            "question": "How many leave days?",
            "session_id": "s1",
            "created_at": "2025-03-14T09:26:53.512Z",
            "attempt": 1,
        }
    }
    execution_arn = sfn.start_execution(stateMachineArn=machine_arn, name=job_id, input=json.dumps(envelope))[
        "executionArn"
    ]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        execution = sfn.describe_execution(executionArn=execution_arn)
        if execution["status"] != "RUNNING":
            return execution
        time.sleep(0.05)
    raise AssertionError(f"execution {job_id} did not finish")


@pytest.mark.parametrize(
    ("route", "expected_calls"),
    [
        ("rag", ["classify", "retrieve", "answer", "evaluate", "persist"]),
        ("direct", ["classify", "answer", "evaluate", "persist"]),
        ("human_review", ["classify", "persist"]),
        ("blocked", ["classify", "persist"]),
    ],
)
def test_each_route_runs_its_steps(lab: StepFunctionsLab, route: str, expected_calls: list[str]) -> None:
    machine_arn, _ = deploy(lab)
    happy_steps(lab, route)
    execution = run(lab, machine_arn, f"job-{route.replace('_', '-')}")
    assert execution["status"] == "SUCCEEDED", execution
    assert [call.removeprefix("endurance-") for call in lab.calls] == expected_calls
    output = json.loads(execution["output"])
    assert output["result"] == {"status": "COMPLETED"}
    assert output["classification"]["route"] == route


def test_transient_error_is_retried_and_the_job_completes(lab: StepFunctionsLab) -> None:
    machine_arn, queue_url = deploy(lab)
    happy_steps(lab, "rag")
    failures = iter([TransientError("groq: 503")])

    def flaky_answer(state: dict[str, Any]) -> dict[str, Any]:
        for error in failures:
            raise error
        return {**state, "answer": {"text": "Twenty-five [1].", "sources": []}}

    lab.steps["endurance-answer"] = flaky_answer
    execution = run(lab, machine_arn, "job-flaky")
    assert execution["status"] == "SUCCEEDED", execution
    assert lab.calls.count("endurance-answer") == 2
    assert "endurance-fail" not in lab.calls
    assert lab.client("sqs").receive_message(QueueUrl=queue_url).get("Messages", []) == []


def test_a_failing_step_marks_the_job_failed_and_parks_its_envelope(lab: StepFunctionsLab) -> None:
    machine_arn, queue_url = deploy(lab)
    happy_steps(lab, "rag")
    marked: list[dict[str, Any]] = []

    def refuse(_: dict[str, Any]) -> dict[str, Any]:
        raise ModelRefused("the model refused the prompt")

    def fail(state: dict[str, Any]) -> dict[str, Any]:
        marked.append(state)
        return {"status": "FAILED"}  # whatever it returns, $.job must survive to the queue

    lab.steps.update({"endurance-evaluate": refuse, "endurance-fail": fail})
    execution = run(lab, machine_arn, "job-doomed")

    assert execution["status"] == "FAILED"
    assert execution.get("error") == "JobFailed"
    assert lab.calls.count("endurance-evaluate") == 1, "a non-transient error is not retried"
    (state,) = marked
    assert state["error"]["Error"] == "ModelRefused"
    assert "the model refused the prompt" in state["error"]["Cause"]
    assert state["answer"]["text"] == "Hello.", "the fail step sees everything done so far"
    (message,) = lab.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    body = json.loads(message["Body"])
    assert body == state["job"]
    assert body["job_id"] == "job-doomed"


def test_a_failing_fail_step_still_parks_the_envelope(lab: StepFunctionsLab) -> None:
    machine_arn, queue_url = deploy(lab)
    happy_steps(lab, "direct")

    def broken(_: dict[str, Any]) -> dict[str, Any]:
        raise ModelRefused("boom")

    lab.steps.update({"endurance-classify": broken, "endurance-fail": broken})
    execution = run(lab, machine_arn, "job-twice-doomed")
    assert execution["status"] == "FAILED"
    (message,) = lab.client("sqs").receive_message(QueueUrl=queue_url)["Messages"]
    assert json.loads(message["Body"])["job_id"] == "job-twice-doomed"
