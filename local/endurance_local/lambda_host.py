"""Runs the template's functions the way Lambda does: warm sandboxes, one invocation per sandbox at a time.

Each function gets a pool of worker processes (`lambda_worker`), started on demand up to
`max_concurrency` and reused while warm. Errors, timeouts and crashed sandboxes are reported with the
payloads and error types Lambda uses, so Step Functions Retry/Catch and SDK callers see what they would
see on AWS. Asynchronous ("Event") invocations run in the background and are retried twice on failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from endurance_local.lambda_worker import LOG_END_MARKER
from endurance_local.model import FunctionSpec, InvocationType, InvokeResult

LogSink = Callable[[str, str], None]
AsyncFailureSink = Callable[[str, bytes, InvokeResult], None]

# Lambda's own limit on a sandbox's init phase; generous because local machines import slowly when cold.
INIT_TIMEOUT_S = 30.0
LOG_TAIL_BYTES = 4096
# Lambda retries failed asynchronous invocations twice, after about 1 and 2 minutes; locally we do not wait.
DEFAULT_ASYNC_RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0)
_RUNTIME_ROOT = str(Path(__file__).resolve().parents[1])


class FunctionNotFound(KeyError):
    """No function with that logical id, name or ARN."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"Function not found: {self.name}"


class InvalidRequestContent(ValueError):
    """The payload is not JSON (Lambda's InvalidRequestContentException)."""


class HostClosed(RuntimeError):
    """The host was closed; it runs nothing any more."""


class _WorkerDied(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class _Worker:
    """One sandbox process and the thread that turns its stderr into log lines."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], on_log: LogSink | None) -> None:
        self.spec = spec
        self.log_stream_name = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self._on_log = on_log
        self._lines: list[str] = []
        self._lines_lock = threading.Lock()
        self._logs_done = threading.Event()
        self._request_id = ""
        # A session of its own so a kill takes the handler's own child processes too.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "endurance_local.lambda_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=spec.code_dir,
            env=env,
            bufsize=0,
            start_new_session=True,
        )
        assert self.process.stdin and self.process.stdout and self.process.stderr
        self._in = self.process.stdin
        self._out_fd = self.process.stdout.fileno()
        self._buffer = b""
        self._log_thread = threading.Thread(
            target=self._pump_logs, name=f"lambda-log-{spec.logical_id}", daemon=True
        )
        self._log_thread.start()
        self.init_ms: float | None = None

    def _pump_logs(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            # The marker may share a line with handler output that did not end in a newline.
            text, marker, request_id = line.partition(LOG_END_MARKER)
            if text or not marker:
                self.log(text)
            if marker and request_id == self._request_id:
                self._logs_done.set()
        self._logs_done.set()

    def log(self, line: str) -> None:
        with self._lines_lock:
            self._lines.append(line)
        if self._on_log is not None:
            self._on_log(self.spec.logical_id, line)

    def _read_message(self, deadline: float) -> dict[str, Any] | None:
        """The next protocol line, or None when the deadline passes first."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                ready, _, _ = select.select([self._out_fd], [], [], remaining)
                if not ready:
                    return None
                chunk = os.read(self._out_fd, 1 << 16)
            except (OSError, ValueError) as exc:
                # The pipe was closed under us: the host is closing and killed this sandbox.
                raise _WorkerDied("Runtime exited without providing a reason") from exc
            if not chunk:
                raise _WorkerDied(self._exit_detail())
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message: dict[str, Any] = json.loads(line)
        return message

    def _exit_detail(self) -> str:
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "Runtime exited without providing a reason"
        if code < 0:
            return f"Runtime exited with error: signal: {signal.Signals(-code).name.lower()}"
        return f"Runtime exited with error: exit status {code}"

    def wait_ready(self) -> None:
        message = self._read_message(time.monotonic() + INIT_TIMEOUT_S)
        if message is None:
            raise _WorkerDied(f"Init timed out after {INIT_TIMEOUT_S:.2f} seconds")
        self.init_ms = float(message.get("init_ms", 0.0))

    def begin(self, request_id: str) -> None:
        with self._lines_lock:
            self._lines = []
        self._logs_done.clear()
        self._request_id = request_id

    def call(self, request: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
        """Send one invocation; its response, or None on timeout. Raises _WorkerDied."""
        deadline = time.monotonic() + timeout_s
        try:
            self._in.write(json.dumps(request).encode() + b"\n")
        except (BrokenPipeError, OSError) as exc:
            raise _WorkerDied(self._exit_detail()) from exc
        return self._read_message(deadline)

    def logs_of_invocation(self) -> list[str]:
        # The marker follows the handler's last line on the same pipe; it is there within milliseconds.
        self._logs_done.wait(timeout=2.0)
        with self._lines_lock:
            return list(self._lines)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._log_thread.join(timeout=5)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class _FunctionPool:
    """The warm sandboxes of one function."""

    def __init__(
        self,
        spec: FunctionSpec,
        make_env: Callable[[], dict[str, str]],
        max_concurrency: int,
        on_log: LogSink | None,
    ) -> None:
        self.spec = spec
        self._make_env = make_env
        self._on_log = on_log
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._lock = threading.Lock()
        self._idle: deque[_Worker] = deque()
        self._all: set[_Worker] = set()
        self._closed = False

    def acquire_slot(self, closing: threading.Event) -> None:
        while not self._slots.acquire(timeout=0.2):
            if closing.is_set():
                raise HostClosed("the Lambda host is closed")

    def release_slot(self) -> None:
        self._slots.release()

    def checkout(self) -> tuple[_Worker, bool]:
        """A warm worker if one is idle, else a new one; the flag says whether it was a cold start."""
        with self._lock:
            if self._closed:
                raise HostClosed("the Lambda host is closed")
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker, False
                self._all.discard(worker)
                worker.kill()
        worker = _Worker(self.spec, self._make_env(), self._on_log)
        with self._lock:
            self._all.add(worker)
            closed = self._closed
        if closed:
            self.discard(worker)
            raise HostClosed("the Lambda host is closed")
        return worker, True

    def checkin(self, worker: _Worker) -> None:
        with self._lock:
            if not self._closed and worker.alive:
                self._idle.append(worker)
                return
        self.discard(worker)

    def discard(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.kill()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
        for worker in workers:
            worker.kill()


def _error_payload(error_type: str, message: str, request_id: str) -> bytes:
    body = {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": []}
    return json.dumps(body).encode()


class LambdaHost:
    """Implements `model.Invoker` for a set of functions, each in its own warm worker processes."""

    def __init__(
        self,
        functions: Mapping[str, FunctionSpec],
        *,
        base_env: Mapping[str, str],
        max_concurrency: int = 4,
        on_log: LogSink | None = None,
        on_async_failure: AsyncFailureSink | None = None,
        async_retry_delays: Sequence[float] = DEFAULT_ASYNC_RETRY_DELAYS,
    ) -> None:
        self._functions = dict(functions)
        self._base_env = dict(base_env)
        self._on_log = on_log
        self._on_async_failure = on_async_failure
        self._async_retry_delays = tuple(async_retry_delays)
        self._closing = threading.Event()
        self._pools = {
            logical_id: _FunctionPool(spec, self._env_factory(spec), max_concurrency, on_log)
            for logical_id, spec in self._functions.items()
        }
        self._background = ThreadPoolExecutor(
            max_workers=max(2, max_concurrency * 2), thread_name_prefix="lambda-async"
        )
        self._close_lock = threading.Lock()
        self._closed = False

    # -- names -------------------------------------------------------------------------------------

    def resolve(self, function: str) -> FunctionSpec | None:
        """Find a function by logical id, name, full or partial ARN, qualified or not."""
        name = function
        if ":function:" in name or name.startswith("function:"):
            name = name.split("function:", 1)[1].split(":", 1)[0]
        else:
            # "name:$LATEST" / "name:alias": Lambda accepts a qualifier after a bare name too.
            name = name.split(":", 1)[0]
        if name in self._functions:
            return self._functions[name]
        for spec in self._functions.values():
            if name == spec.name:
                return spec
        return None

    # -- environment ----------------------------------------------------------------------------------

    def _env_factory(self, spec: FunctionSpec) -> Callable[[], dict[str, str]]:
        def make_env() -> dict[str, str]:
            return self._worker_env(spec)

        return make_env

    def _worker_env(self, spec: FunctionSpec) -> dict[str, str]:
        # The developer's own AWS_* settings (a profile, real keys) must never reach a handler.
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "LAMBDA_")) and key not in ("_HANDLER", "PYTHONPATH")
        }
        env.update(self._base_env)
        stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": stream,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "LAMBDA_TASK_ROOT": str(spec.code_dir),
                "_HANDLER": spec.handler,
                "TZ": ":UTC",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(spec.environment)
        inherited = [part for part in os.environ.get("PYTHONPATH", "").split(os.pathsep) if part]
        path = [str(spec.code_dir), *(str(layer) for layer in spec.layer_dirs), *inherited, _RUNTIME_ROOT]
        env["PYTHONPATH"] = os.pathsep.join(path)
        return env

    # -- invoking ------------------------------------------------------------------------------------

    def invoke(
        self, function: str, payload: bytes, invocation_type: InvocationType = "RequestResponse"
    ) -> InvokeResult:
        if self._closing.is_set():
            raise HostClosed("the Lambda host is closed")
        spec = self.resolve(function)
        if spec is None:
            raise FunctionNotFound(function)
        if payload.strip():
            try:
                json.loads(payload)
            except ValueError as exc:
                raise InvalidRequestContent(f"Could not parse request body into json: {exc}") from exc
        arn = function if function.startswith("arn:") else spec.arn
        request_id = str(uuid.uuid4())
        if invocation_type == "Event":
            self._background.submit(self._invoke_async, spec, payload, arn, request_id)
            return InvokeResult(payload=b"")
        return self._invoke_sync(spec, payload, arn, request_id)

    def _invoke_async(self, spec: FunctionSpec, payload: bytes, arn: str, request_id: str) -> None:
        delays = (*self._async_retry_delays[:2], None)
        for attempt, delay in enumerate(delays, start=1):
            try:
                result = self._invoke_sync(spec, payload, arn, request_id)
            except HostClosed:
                return
            if result.ok:
                return
            if delay is None or self._closing.wait(delay):
                error = _error_summary(result.payload)
                self._log(
                    spec, f"[ERROR] async invocation {request_id} failed after {attempt} attempts: {error}"
                )
                if self._on_async_failure is not None and not self._closing.is_set():
                    self._on_async_failure(spec.logical_id, payload, result)
                return

    def _invoke_sync(self, spec: FunctionSpec, payload: bytes, arn: str, request_id: str) -> InvokeResult:
        pool = self._pools[spec.logical_id]
        pool.acquire_slot(self._closing)
        try:
            return self._run_on_worker(pool, spec, payload, arn, request_id)
        finally:
            pool.release_slot()

    def _run_on_worker(
        self, pool: _FunctionPool, spec: FunctionSpec, payload: bytes, arn: str, request_id: str
    ) -> InvokeResult:
        worker, cold = pool.checkout()
        worker.begin(request_id)
        started = time.monotonic()
        try:
            if cold:
                worker.wait_ready()
            worker.log(f"START RequestId: {request_id} Version: $LATEST")
            started = time.monotonic()
            deadline_ms = int(time.time() * 1000 + spec.timeout * 1000)
            request = {
                "request_id": request_id,
                "payload": payload.decode("utf-8") if payload.strip() else "",
                "deadline_ms": deadline_ms,
                "invoked_function_arn": arn,
            }
            response = worker.call(request, spec.timeout)
        except _WorkerDied as died:
            pool.discard(worker)
            if self._closing.is_set():
                raise HostClosed("the Lambda host is closed") from None
            message = f"RequestId: {request_id} Error: {died.detail}"
            self._log(spec, message)
            return InvokeResult(
                payload=_error_payload("Runtime.ExitError", message, request_id),
                function_error="Unhandled",
                log_tail=message,
                duration_ms=(time.monotonic() - started) * 1000,
            )
        duration_ms = (time.monotonic() - started) * 1000
        if response is None:
            return self._timed_out(pool, worker, spec, request_id, duration_ms)
        lines = worker.logs_of_invocation()
        if response.get("fatal"):
            pool.discard(worker)
        else:
            pool.checkin(worker)
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms"
            f"\tMemory Size: {spec.memory_size} MB"
        )
        if cold and worker.init_ms is not None:
            report += f"\tInit Duration: {worker.init_ms:.2f} ms"
        tail = [*lines, f"END RequestId: {request_id}", report]
        self._log(spec, tail[-2])
        self._log(spec, tail[-1])
        log_tail = _tail("\n".join(tail) + "\n")
        if "error" in response:
            return InvokeResult(
                payload=json.dumps(response["error"]).encode(),
                function_error="Unhandled",
                log_tail=log_tail,
                duration_ms=duration_ms,
            )
        return InvokeResult(payload=response["result"].encode(), log_tail=log_tail, duration_ms=duration_ms)

    def _timed_out(
        self, pool: _FunctionPool, worker: _Worker, spec: FunctionSpec, request_id: str, duration_ms: float
    ) -> InvokeResult:
        # Lambda abandons the invocation and throws the sandbox away; the next one starts cold.
        pool.discard(worker)
        now = datetime.now(UTC)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        message = f"{stamp} {request_id} Task timed out after {spec.timeout:.2f} seconds"
        self._log(spec, message)
        return InvokeResult(
            payload=_error_payload("Sandbox.Timedout", message, request_id),
            function_error="Unhandled",
            log_tail=message,
            duration_ms=duration_ms,
        )

    def _log(self, spec: FunctionSpec, line: str) -> None:
        if self._on_log is not None:
            self._on_log(spec.logical_id, line)

    # -- lifecycle -------------------------------------------------------------------------------------

    def close(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._closing.set()
        self._background.shutdown(wait=False, cancel_futures=True)
        for pool in self._pools.values():
            pool.close()
        self._background.shutdown(wait=True)

    def __enter__(self) -> LambdaHost:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _tail(text: str) -> str:
    data = text.encode("utf-8")
    if len(data) <= LOG_TAIL_BYTES:
        return text
    return data[-LOG_TAIL_BYTES:].decode("utf-8", errors="ignore")


def _error_summary(payload: bytes) -> str:
    try:
        body = json.loads(payload)
        return f"{body.get('errorType')}: {body.get('errorMessage')}"
    except (ValueError, AttributeError):
        return payload.decode("utf-8", errors="replace")
