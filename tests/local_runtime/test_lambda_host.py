"""The Lambda host runs fixture functions in real worker processes and reports what Lambda would."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from endurance_local.lambda_host import FunctionNotFound, HostClosed, InvalidRequestContent, LambdaHost
from endurance_local.model import ACCOUNT_ID, REGION, FunctionSpec, InvokeResult

FIXTURES = Path(__file__).parent / "fixtures" / "functions_host"
BASE_ENV = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def spec(
    logical_id: str,
    code: str,
    handler: str,
    *,
    timeout: float = 5.0,
    environment: dict[str, str] | None = None,
    layers: list[Path] | None = None,
) -> FunctionSpec:
    name = f"fixture-{logical_id}"
    return FunctionSpec(
        logical_id=logical_id,
        name=name,
        arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}",
        code_dir=FIXTURES / code,
        handler=handler,
        runtime="python3.11",
        timeout=timeout,
        memory_size=256,
        environment=environment or {},
        layer_dirs=layers or [],
    )


FUNCTIONS = {
    "Echo": spec("Echo", "echo", "app.handler", timeout=7.0),
    "Env": spec("Env", "echo", "app.env_handler", environment={"STAGE": "test"}),
    "Noisy": spec("Noisy", "echo", "app.noisy_handler"),
    "Trivial": spec("Trivial", "echo", "app.trivial_handler"),
    "Sleep": spec("Sleep", "echo", "app.sleep_handler", timeout=1.0),
    "Custom": spec("Custom", "echo", "app.custom_error_handler"),
    "Marshal": spec("Marshal", "echo", "app.marshal_handler"),
    "Crash": spec("Crash", "echo", "app.crash_handler"),
    "Counting": spec("Counting", "echo", "app.counting_handler"),
    "Missing": spec("Missing", "echo", "missing_attr.handler"),
    "Broken": spec("Broken", "broken", "app.handler"),
    "Powertools": spec("Powertools", "echo", "powertools_app.handler"),
    "Alpha": spec(
        "Alpha",
        "alpha",
        "app.handler",
        environment={"GREETING": "hello from alpha"},
        layers=[FIXTURES / "layer"],
    ),
    "Beta": spec("Beta", "beta", "app.handler", environment={"GREETING": "hi from beta", "ONLY_BETA": "yes"}),
}


class LogSink:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, function: str, line: str) -> None:
        with self._lock:
            self.lines.append((function, line))

    def of(self, function: str) -> list[str]:
        with self._lock:
            return [line for name, line in self.lines if name == function]


@pytest.fixture
def logs() -> LogSink:
    return LogSink()


@pytest.fixture
def make_host(logs: LogSink) -> Iterator[Callable[..., LambdaHost]]:
    hosts: list[LambdaHost] = []

    def make(**kwargs: Any) -> LambdaHost:
        options: dict[str, Any] = {"base_env": BASE_ENV, "on_log": logs, **kwargs}
        host = LambdaHost(FUNCTIONS, **options)
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        host.close()


@pytest.fixture
def host(make_host: Callable[..., LambdaHost]) -> LambdaHost:
    return make_host()


def body(result: InvokeResult) -> Any:
    return json.loads(result.payload)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_handler_gets_its_event_and_a_real_context(host: LambdaHost) -> None:
    result = host.invoke("Echo", b'{"question": "why?", "n": [1, 2]}')

    assert result.ok and result.function_error is None
    out = body(result)
    assert out["event"] == {"question": "why?", "n": [1, 2]}
    assert out["context_class"] == "LambdaContext"
    assert out["function_name"] == "fixture-Echo"
    assert out["function_version"] == "$LATEST"
    assert out["invoked_function_arn"] == FUNCTIONS["Echo"].arn
    assert out["memory_limit_in_mb"] == 256
    assert len(out["aws_request_id"]) == 36 and out["aws_request_id"].count("-") == 4
    assert out["log_group_name"] == "/aws/lambda/fixture-Echo"
    assert "[$LATEST]" in out["log_stream_name"]
    assert out["identity"] is None and out["client_context"] is None
    # Counts down from the 7 s timeout.
    assert 6000 < out["remaining_ms"] <= 7000


def test_qualified_arn_is_passed_through_as_invoked_arn(host: LambdaHost) -> None:
    qualified = FUNCTIONS["Echo"].arn + ":$LATEST"
    out = body(host.invoke(qualified, b"{}"))
    assert out["invoked_function_arn"] == qualified


def test_resolve_accepts_logical_id_name_and_arns(host: LambdaHost) -> None:
    echo = FUNCTIONS["Echo"]
    for name in (
        "Echo",
        "fixture-Echo",
        echo.arn,
        echo.arn + ":$LATEST",
        f"{ACCOUNT_ID}:function:fixture-Echo",
    ):
        assert host.resolve(name) is echo, name
    assert host.resolve("fixture-Nope") is None


def test_unknown_function_raises_function_not_found(host: LambdaHost) -> None:
    with pytest.raises(FunctionNotFound) as caught:
        host.invoke("NoSuchFunction", b"{}")
    assert isinstance(caught.value, KeyError)
    assert str(caught.value) == "Function not found: NoSuchFunction"


def test_payload_that_is_not_json_is_rejected(host: LambdaHost) -> None:
    with pytest.raises(InvalidRequestContent):
        host.invoke("Echo", b"{not json")


def test_warm_worker_is_reused(host: LambdaHost) -> None:
    first = body(host.invoke("Echo", b"{}"))
    second = body(host.invoke("Echo", b"{}"))
    assert first["pid"] == second["pid"]
    assert second["module_loads"] == 1
    assert first["aws_request_id"] != second["aws_request_id"]


def test_environment_has_lambda_variables_base_env_and_function_env(host: LambdaHost) -> None:
    names = [
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_EXECUTION_ENV",
        "LAMBDA_TASK_ROOT",
        "_HANDLER",
        "STAGE",
        "PYTHONPATH",
    ]
    out = body(host.invoke("Env", json.dumps({"names": names}).encode()))
    assert out["AWS_ENDPOINT_URL"] == BASE_ENV["AWS_ENDPOINT_URL"]
    assert out["AWS_REGION"] == REGION
    assert out["AWS_LAMBDA_FUNCTION_NAME"] == "fixture-Env"
    assert out["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert out["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert out["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/fixture-Env"
    assert out["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert out["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert out["LAMBDA_TASK_ROOT"] == str(FIXTURES / "echo")
    assert out["_HANDLER"] == "app.env_handler"
    assert out["STAGE"] == "test"
    assert out["PYTHONPATH"].split(os.pathsep)[0] == str(FIXTURES / "echo")
    assert out["cwd"] == str(FIXTURES / "echo")


def test_developer_aws_settings_do_not_leak_into_handlers(
    make_host: Callable[..., LambdaHost], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "someones-real-account")
    out = body(make_host().invoke("Env", b'{"names": ["AWS_PROFILE", "AWS_ACCESS_KEY_ID"]}'))
    assert out["AWS_PROFILE"] is None
    assert out["AWS_ACCESS_KEY_ID"] == "testing"


def test_two_functions_with_module_app_are_isolated(host: LambdaHost) -> None:
    alpha = body(host.invoke("Alpha", b"{}"))
    beta = body(host.invoke("Beta", b"{}"))
    assert alpha == {
        "who": "alpha",
        "module_file": str(FIXTURES / "alpha" / "app.py"),
        "greeting": "hello from alpha",
        "only_beta": None,
        "layer": "ALPHA!",
    }
    assert beta == {
        "who": "beta",
        "module_file": str(FIXTURES / "beta" / "app.py"),
        "greeting": "hi from beta",
        "only_beta": "yes",
    }


def test_handler_output_goes_to_logs_not_into_the_result(host: LambdaHost, logs: LogSink) -> None:
    result = host.invoke("Noisy", b"{}")
    assert body(result) == "quiet result"
    lines = logs.of("Noisy")
    expected_lines = (
        "printed to stdout",
        "written to stderr",
        '{"looks": "like a protocol line"}',
        "no newline at the end",
    )
    for expected in expected_lines:
        assert expected in lines
        assert expected in result.log_tail
    assert lines[0].startswith("START RequestId: ")
    assert lines[-1].startswith("REPORT RequestId: ")
    assert "Init Duration" in lines[-1]
    assert not any("\x1e" in line for line in lines)
    # Every line of the invocation was collected before it returned (no wait for a missing marker).
    started = time.monotonic()
    host.invoke("Noisy", b"{}")
    assert time.monotonic() - started < 1.0


def test_powertools_logger_reads_the_context(host: LambdaHost, logs: LogSink) -> None:
    result = host.invoke("Powertools", b"{}")
    assert body(result) == {"ok": True}
    records = [json.loads(line) for line in logs.of("Powertools") if line.startswith("{")]
    assert len(records) == 1
    record = records[0]
    assert record["message"] == "handling"
    assert record["function_name"] == "fixture-Powertools"
    assert record["function_memory_size"] == 256
    assert record["function_arn"] == FUNCTIONS["Powertools"].arn
    assert record["cold_start"] is True
    assert len(record["function_request_id"]) == 36


def test_exception_is_reported_under_its_own_class_name(host: LambdaHost, logs: LogSink) -> None:
    result = host.invoke("Custom", b'{"status": 429}')
    assert result.function_error == "Unhandled"
    error = body(result)
    assert set(error) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert error["errorType"] == "TransientError"
    assert error["errorMessage"] == "upstream said 429"
    assert any("custom_error_handler" in frame for frame in error["stackTrace"])
    assert "[ERROR] TransientError: upstream said 429" in logs.of("Custom")
    # The sandbox survives a handled exception.
    assert host.invoke("Custom", b"{}").function_error == "Unhandled"


def test_import_failure_is_an_import_module_error(host: LambdaHost) -> None:
    result = host.invoke("Broken", b"{}")
    error = body(result)
    assert result.function_error == "Unhandled"
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == (
        "Unable to import module 'app': No module named 'endurance_fixture_module_that_does_not_exist'"
    )
    # Init is retried in a fresh sandbox on the next invocation, with the same result.
    assert body(host.invoke("Broken", b"{}"))["errorType"] == "Runtime.ImportModuleError"


def test_missing_handler_attribute_is_handler_not_found(host: LambdaHost) -> None:
    error = body(host.invoke("Missing", b"{}"))
    assert error["errorType"] == "Runtime.HandlerNotFound"
    assert error["errorMessage"] == "Handler 'handler' missing on module 'missing_attr'"


def test_result_that_is_not_json_is_a_marshal_error(host: LambdaHost) -> None:
    result = host.invoke("Marshal", b"{}")
    error = body(result)
    assert result.function_error == "Unhandled"
    assert error["errorType"] == "Runtime.MarshalError"
    assert error["errorMessage"] == "Unable to marshal response: Object of type set is not JSON serializable"


def test_worker_that_dies_is_an_exit_error_and_is_replaced(host: LambdaHost) -> None:
    error = body(host.invoke("Crash", b"{}"))
    assert error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in error["errorMessage"]
    assert body(host.invoke("Crash", b"{}"))["errorType"] == "Runtime.ExitError"


def test_timeout_kills_the_worker_and_the_next_invocation_recovers(host: LambdaHost, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    result = host.invoke("Sleep", json.dumps({"seconds": 30, "pid_file": str(pid_file)}).encode())
    elapsed = time.monotonic() - started

    assert elapsed < 3.0
    assert result.function_error == "Unhandled"
    error = body(result)
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith(f"{error['requestId']} Task timed out after 1.00 seconds")
    assert error["errorMessage"][:24].endswith("Z") and error["errorMessage"][10] == "T"
    timed_out_pid = int(pid_file.read_text())
    assert not pid_alive(timed_out_pid)

    recovered = host.invoke("Sleep", b'{"seconds": 0}')
    assert recovered.ok
    assert body(recovered)["pid"] != timed_out_pid


def test_concurrent_invocations_run_in_parallel_workers(host: LambdaHost) -> None:
    slow = spec("Slow", "echo", "app.sleep_handler", timeout=5.0)
    concurrent = LambdaHost({"Slow": slow}, base_env=BASE_ENV, max_concurrency=4)
    results: list[InvokeResult] = []
    lock = threading.Lock()

    def call() -> None:
        result = concurrent.invoke("Slow", b'{"seconds": 1}')
        with lock:
            results.append(result)

    try:
        started = time.monotonic()
        threads = [threading.Thread(target=call) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        elapsed = time.monotonic() - started
    finally:
        concurrent.close()

    assert len(results) == 3 and all(result.ok for result in results)
    assert len({body(result)["pid"] for result in results}) == 3
    assert elapsed < 2.0, f"3 x 1 s invocations took {elapsed:.2f} s"


def test_max_concurrency_bounds_the_workers(make_host: Callable[..., LambdaHost]) -> None:
    host = make_host(max_concurrency=1)
    pids: list[int] = []

    def call() -> None:
        pids.append(body(host.invoke("Sleep", b'{"seconds": 0.2}'))["pid"])

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(pids) == 3 and len(set(pids)) == 1


def test_event_invocation_returns_at_once_and_runs_in_background(host: LambdaHost, tmp_path: Path) -> None:
    counter = tmp_path / "calls"
    payload = json.dumps({"counter_file": str(counter), "seconds": 0}).encode()
    started = time.monotonic()
    result = host.invoke("Counting", payload, "Event")
    assert time.monotonic() - started < 0.5
    assert result.payload == b"" and result.ok
    assert wait_for(lambda: counter.exists() and counter.read_text() == "call\n")


def test_failed_event_invocation_is_retried_twice_then_reported(
    make_host: Callable[..., LambdaHost], tmp_path: Path, logs: LogSink
) -> None:
    failures: list[tuple[str, bytes, InvokeResult]] = []
    host = make_host(async_retry_delays=(0.05, 0.05), on_async_failure=lambda *args: failures.append(args))
    counter = tmp_path / "calls"
    payload = json.dumps({"counter_file": str(counter), "fail_times": 10}).encode()

    host.invoke("Counting", payload, "Event")

    assert wait_for(lambda: len(failures) == 1)
    assert counter.read_text().splitlines() == ["call"] * 3
    function, sent, result = failures[0]
    assert (function, sent) == ("Counting", payload)
    assert body(result)["errorType"] == "TransientError"
    assert any("failed after 3 attempts" in line for line in logs.of("Counting"))


def test_async_retry_stops_when_a_later_attempt_succeeds(
    make_host: Callable[..., LambdaHost], tmp_path: Path
) -> None:
    failures: list[Any] = []
    host = make_host(async_retry_delays=(0.05, 0.05), on_async_failure=lambda *args: failures.append(args))
    counter = tmp_path / "calls"
    host.invoke("Counting", json.dumps({"counter_file": str(counter), "fail_times": 1}).encode(), "Event")
    assert wait_for(lambda: counter.exists() and len(counter.read_text().splitlines()) == 2)
    time.sleep(0.3)
    assert len(counter.read_text().splitlines()) == 2
    assert failures == []


def test_close_leaves_no_worker_processes(make_host: Callable[..., LambdaHost], tmp_path: Path) -> None:
    host = make_host()
    pids = {body(host.invoke("Echo", b"{}"))["pid"]}
    pid_file = tmp_path / "pid"
    outcome: list[BaseException | InvokeResult] = []

    def busy_invoke() -> None:
        try:
            outcome.append(
                host.invoke("Sleep", json.dumps({"seconds": 0.8, "pid_file": str(pid_file)}).encode())
            )
        except HostClosed as exc:
            outcome.append(exc)

    # One worker is busy when close() comes: its caller is told the host closed.
    busy = threading.Thread(target=busy_invoke)
    busy.start()
    assert wait_for(pid_file.exists)
    pids.add(int(pid_file.read_text()))
    assert all(pid_alive(pid) for pid in pids)

    host.close()
    host.close()  # idempotent
    busy.join(timeout=5)

    assert not busy.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], HostClosed)
    assert not any(pid_alive(pid) for pid in pids)
    with pytest.raises(HostClosed):
        host.invoke("Echo", b"{}")
