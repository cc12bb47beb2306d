"""Local runtime overheads: `local up` start-up on our template, per-invoke overhead, per-transition cost.

Run: .venv/bin/python -m bench.local_runtime (Markdown; kept in bench/results/local_runtime.md)
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import boto3
from endurance_local.lambda_host import LambdaHost
from endurance_local.model import FunctionSpec
from endurance_local.runtime import LocalStack, LocalStackConfig

from bench.common import free_port, header, summary

ROOT = Path(__file__).resolve().parents[1]
ECHO = "def handler(event, context):\n    return event\n"
CHAIN_LENGTH = 12


def _echo_spec(folder: Path) -> FunctionSpec:
    (folder / "app.py").write_text(ECHO)
    return FunctionSpec(
        logical_id="Echo",
        name="local-Echo",
        arn="arn:aws:lambda:us-east-1:123456789012:function:local-Echo",
        code_dir=folder,
        handler="app.handler",
        runtime="python3.12",
        timeout=10,
        memory_size=128,
        environment={},
    )


def host_overhead(rounds: int = 300) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        host = LambdaHost({"Echo": _echo_spec(Path(tmp))}, base_env={})
        try:
            host.invoke("Echo", b"{}")  # cold start excluded
            times = []
            for _ in range(rounds):
                began = time.perf_counter()
                host.invoke("Echo", b'{"x": 1}')
                times.append((time.perf_counter() - began) * 1000)
        finally:
            host.close()
    return times


def stack_measurements(rounds: int = 100) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        config = LocalStackConfig(
            template=ROOT / "template.yaml",
            api_port=free_port(),
            aws_port=free_port(),
            state_dir=Path(tmp),
            parameter_overrides={"VectorStore": "local", "Embedder": "hashing", "LlmProvider": "offline"},
        )
        startups = []
        for _ in range(3):
            began = time.perf_counter()
            LocalStack(config, log=lambda _m: None).start().stop()
            startups.append(time.perf_counter() - began)
        echo = LocalStackConfig(
            template=ROOT / "bench" / "fixtures" / "echo_template.yaml",
            api_port=free_port(),
            aws_port=free_port(),
            state_dir=Path(tmp),
        )
        stack = LocalStack(echo, log=lambda _m: None).start()
        try:
            lam = boto3.client(
                "lambda",
                endpoint_url=stack.aws_url,
                region_name="us-east-1",
                aws_access_key_id="x",
                aws_secret_access_key="x",
            )
            payload = json.dumps({"x": 1}).encode()
            lam.invoke(FunctionName="EchoFunction", Payload=payload)  # warm the client and one worker
            times = []
            for _ in range(rounds):
                began = time.perf_counter()
                lam.invoke(FunctionName="EchoFunction", Payload=payload)
                times.append((time.perf_counter() - began) * 1000)
            transitions = _transition_cost(stack)
        finally:
            stack.stop()
    return {
        "startup_s": statistics.median(startups),
        "startup_runs": startups,
        "boto3_invoke_ms": times,
        "transition_ms": transitions,
    }


def _transition_cost(stack: LocalStack, executions: int = 5) -> list[float]:
    """A chain of Pass states and a chain of Lambda tasks: the difference per state is the task transition."""
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=stack.aws_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    assert stack.deployment is not None
    arn = stack.deployment.functions["EchoFunction"].arn
    states = {}
    for i in range(CHAIN_LENGTH):
        nxt = {"Next": f"S{i + 1}"} if i + 1 < CHAIN_LENGTH else {"End": True}
        states[f"S{i}"] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": arn, "Payload": {}},
            "ResultPath": None,
            **nxt,
        }
    machine = sfn.create_state_machine(
        name="bench-chain",
        roleArn="arn:aws:iam::123456789012:role/x",
        definition=json.dumps({"StartAt": "S0", "States": states}),
    )["stateMachineArn"]
    per_transition = []
    for n in range(executions):
        began = time.perf_counter()
        execution = sfn.start_execution(stateMachineArn=machine, name=f"bench-{n}")["executionArn"]
        while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
            time.sleep(0.01)
        per_transition.append((time.perf_counter() - began) * 1000 / CHAIN_LENGTH)
    return per_transition


def main() -> None:
    host = host_overhead()
    stack = stack_measurements()
    print(header("Local runtime overheads"))
    runs = ", ".join(f"{s:.2f}" for s in stack["startup_runs"])  # type: ignore[attr-defined]
    print(
        f"- `local up` start-up + stop on template.yaml (moto, provisioning, host, pollers, API): "
        f"median {stack['startup_s']:.2f} s (runs: {runs} s)"
    )
    print(f"- warm invoke through the Lambda host (pipe round trip to the worker): {summary(host)}")
    print(
        f"- warm boto3 `lambda.invoke` of an echo function through the AWS endpoint: "
        f"{summary(stack['boto3_invoke_ms'])}"
    )  # type: ignore[arg-type]
    transitions = stack["transition_ms"]
    print(
        f"- Step Functions Lambda-task transition (chain of {CHAIN_LENGTH}, wall time / states): "
        f"median {statistics.median(transitions):.1f} ms over {len(transitions)} executions"
    )  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
