"""The local stack: one SAM template running on one machine, without Docker, AWS or network.

Start order matters: the AWS endpoint (moto behind our front) comes first because provisioning talks to it;
the Lambda host comes next because state machines, event sources and the API all invoke through it; the
API server comes last so that "ready" means every route can be served. Stop runs in reverse.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from endurance_local.apigateway.server import ApiServer, build_app
from endurance_local.aws_endpoint import AwsEndpoint
from endurance_local.event_sources.manager import EventSources
from endurance_local.lambda_host import LambdaHost
from endurance_local.model import ACCOUNT_ID, REGION, Deployment
from endurance_local.provision import provision
from endurance_local.template import build_deployment


@dataclass
class LocalStackConfig:
    template: Path
    api_port: int = 3000
    aws_port: int = 4566
    host: str = "127.0.0.1"
    state_dir: Path = Path(".endurance")
    stack_name: str = "local"
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    env_overrides: dict[str, str] = field(default_factory=dict)
    static_dir: Path | None = None
    max_concurrency: int = 4
    echo_function_logs: bool = False


def local_aws_environment(endpoint_url: str) -> dict[str, str]:
    """What every local function (and local tool) needs to reach the local AWS endpoint with plain boto3."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCOUNT_ID": ACCOUNT_ID,
    }


class FunctionLogs:
    """Function output goes to one file per function under the state dir (and to the console if asked)."""

    def __init__(self, folder: Path, echo: TextIO | None) -> None:
        self._folder = folder
        self._folder.mkdir(parents=True, exist_ok=True)
        self._echo = echo
        self._files: dict[str, TextIO] = {}
        self._lock = threading.Lock()

    def write(self, function: str, line: str) -> None:
        line = line.rstrip("\n")
        with self._lock:
            handle = self._files.get(function)
            if handle is None:
                handle = (self._folder / f"{function}.log").open("a", encoding="utf-8")
                self._files[function] = handle
            handle.write(line + "\n")
            handle.flush()
            if self._echo is not None:
                self._echo.write(f"[{function}] {line}\n")

    def close(self) -> None:
        with self._lock:
            for handle in self._files.values():
                handle.close()
            self._files.clear()


# Libraries whose own logs (moto's ASL interpreter prints a full state dump for every failed task) belong in
# the state dir's runtime.log, not on the console where people read the `ready` line and our warnings.
QUIET_LOGGERS = ("moto", "werkzeug", "botocore", "uvicorn")


class LibraryLogs:
    def __init__(self, path: Path) -> None:
        self._handler = logging.FileHandler(path, encoding="utf-8")
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        self._saved: dict[str, bool] = {}
        for name in QUIET_LOGGERS:
            logger = logging.getLogger(name)
            self._saved[name] = logger.propagate
            logger.addHandler(self._handler)
            logger.propagate = False

    def close(self) -> None:
        for name, propagate in self._saved.items():
            logger = logging.getLogger(name)
            logger.removeHandler(self._handler)
            logger.propagate = propagate
        self._handler.close()


class LocalStack:
    """Runs a deployment locally; use as a context manager or call start()/stop()."""

    def __init__(self, config: LocalStackConfig, *, log: Callable[[str], None] | None = None) -> None:
        self.config = config
        self._log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self.deployment: Deployment | None = None
        self.endpoint: AwsEndpoint | None = None
        self.host: LambdaHost | None = None
        self.sources: EventSources | None = None
        self.api: ApiServer | None = None
        self._logs: FunctionLogs | None = None
        self._library_logs: LibraryLogs | None = None
        self.startup_seconds: float | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.config.host}:{self.config.api_port}"

    @property
    def aws_url(self) -> str:
        return f"http://{self.config.host}:{self.config.aws_port}"

    def start(self) -> LocalStack:
        began = time.perf_counter()
        config = self.config
        state_dir = config.state_dir.resolve()
        (state_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._library_logs = LibraryLogs(state_dir / "logs" / "runtime.log")
        try:
            self.endpoint = AwsEndpoint(host=config.host, port=config.aws_port, on_s3_event=self._on_s3_event)
            self.endpoint.start()
            self.deployment = build_deployment(
                config.template.resolve(),
                aws_endpoint=self.endpoint.url,
                api_host=config.host,
                api_port=config.api_port,
                stack_name=config.stack_name,
                parameter_overrides=config.parameter_overrides,
                extra_env={"LOCAL_RUNTIME_STATE_DIR": str(state_dir), **config.env_overrides},
            )
            for warning in self.deployment.warnings:
                self._log(f"warning: {warning}")
            provision(self.deployment, self.endpoint.url)
            self._logs = FunctionLogs(state_dir / "logs", sys.stderr if config.echo_function_logs else None)
            self.host = LambdaHost(
                self.deployment.functions,
                base_env=local_aws_environment(self.endpoint.url),
                max_concurrency=config.max_concurrency,
                on_log=self._logs.write,
                on_async_failure=self._on_async_failure,
            )
            self.endpoint.set_invoker(self.host)
            self.sources = EventSources(self.deployment, self.host, self.endpoint.url, on_log=self._log)
            self.sources.start()
            app = build_app(
                self.deployment,
                self.host,
                api_host=config.host,
                api_port=config.api_port,
                resources=self.resources,
                static_dir=config.static_dir,
            )
            self.api = ApiServer(app, host=config.host, port=config.api_port)
            self.api.start()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - began
        return self

    def stop(self) -> None:
        """Stops whatever started, newest first; safe to call twice or after a failed start."""
        steps: list[tuple[str, Callable[[], None] | None]] = [
            ("API server", self.api.stop if self.api else None),
            ("event sources", self.sources.stop if self.sources else None),
            ("Lambda host", self.host.close if self.host else None),
            ("AWS endpoint", self.endpoint.stop if self.endpoint else None),
        ]
        for name, stop in steps:
            if stop is None:
                continue
            try:
                stop()
            except Exception as error:  # one failing part must not leave the others running
                self._log(f"error while stopping the {name}: {error}")
        if self._logs is not None:
            self._logs.close()
        if self._library_logs is not None:
            self._library_logs.close()
            self._library_logs = None
        self.api = self.sources = self.host = self.endpoint = None
        self._logs = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _on_s3_event(
        self, event_name: str, bucket: str, key: str, size: int | None, etag: str | None
    ) -> None:
        if self.sources is not None:
            self.sources.on_s3_event(event_name, bucket, key, size, etag)

    def _on_async_failure(self, function: str, payload: bytes, result: Any) -> None:
        """Lambda's DeadLetterQueue behaviour: the original event, with RequestID/ErrorCode/ErrorMessage
        attributes, goes to the function's queue once its retries are spent."""
        deployment = self.deployment
        spec = deployment.functions.get(function) if deployment else None
        if spec is None or not spec.dead_letter_queue_arn or self.endpoint is None:
            return
        url = next(
            (r.url for r in deployment.resources.values() if r.arn == spec.dead_letter_queue_arn and r.url),
            None,
        )
        try:
            detail = json.loads(result.payload or b"{}")
        except ValueError:
            detail = {}
        message = str(detail.get("errorMessage") or detail.get("errorType") or "function error")[:1000]
        try:
            import boto3

            sqs = boto3.client("sqs", endpoint_url=self.endpoint.url, region_name=REGION,
                               aws_access_key_id="local", aws_secret_access_key="local")
            if url is None:
                url = sqs.get_queue_url(QueueName=spec.dead_letter_queue_arn.split(":")[-1])["QueueUrl"]
            sqs.send_message(
                QueueUrl=url,
                MessageBody=payload.decode("utf-8", errors="replace"),
                MessageAttributes={
                    "RequestID": {"DataType": "String", "StringValue": str(uuid.uuid4())},
                    "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                    "ErrorMessage": {"DataType": "String", "StringValue": message},
                },
            )
        except Exception as error:  # the runtime must survive a broken DLQ; say so in the log
            self._log(f"{function}: could not send a failed event to its dead-letter queue: {error}")

    def resources(self) -> dict[str, Any]:
        """What /__local/resources and `endurance local resources` show."""
        if self.deployment is None:
            return {"resources": {}, "warnings": []}
        return {
            "api_url": self.api_url,
            "aws_endpoint": self.aws_url,
            "resources": {lid: res.describe() for lid, res in self.deployment.resources.items()},
            "outputs": self.deployment.outputs,
            "warnings": self.deployment.warnings,
        }

    def urls(self) -> dict[str, str]:
        urls = {"api": self.api_url, "aws": self.aws_url}
        if self.deployment is not None:
            for api in self.deployment.websocket_apis:
                urls[f"websocket:{api.logical_id}"] = (
                    f"ws://{self.config.host}:{self.config.api_port}/{api.stage}"
                )
        if self.config.static_dir is not None:
            urls["dashboard"] = f"{self.api_url}/"
        return urls


def run_foreground(config: LocalStackConfig, *, out: TextIO = sys.stdout) -> int:
    """`endurance local up`: start, print one `ready` line with the URLs, serve until SIGINT/SIGTERM."""
    stop = threading.Event()

    def _request_stop(signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    stack = LocalStack(config)
    try:
        stack.start()
        urls = " ".join(f"{name}={url}" for name, url in stack.urls().items())
        print(f"ready in {stack.startup_seconds:.1f}s: {urls}", file=out, flush=True)
        while not stop.wait(0.5):
            pass
        print("stopping...", file=out, flush=True)
    finally:
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("stopped", file=out, flush=True)
    return 0
