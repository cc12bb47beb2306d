"""The shapes the local runtime's parts exchange.

`template.py` turns a SAM template into a `Deployment`; `provision.py` creates its AWS resources in moto
and fills in physical names, ARNs and URLs; the Lambda host, the event sources and the API Gateway
emulation read what they need from it. Everything here is plain data so each part is testable alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"

InvocationType = Literal["RequestResponse", "Event"]


class TemplateError(Exception):
    """A template the runtime cannot run. The message names the resource at fault."""

    def __init__(self, message: str, logical_id: str | None = None) -> None:
        self.logical_id = logical_id
        super().__init__(f"{logical_id}: {message}" if logical_id else message)


@dataclass
class Resource:
    """One template resource and, once provisioned, where it lives."""

    logical_id: str
    type: str
    properties: dict[str, Any]
    physical_name: str | None = None
    arn: str | None = None
    url: str | None = None
    # Values for Fn::GetAtt (e.g. {"Arn": ..., "QueueName": ..., "StreamArn": ...}).
    attributes: dict[str, Any] = field(default_factory=dict)
    # What Ref returns when it is not the physical name (e.g. a queue URL, an API id).
    ref: str | None = None
    supported: bool = True

    def describe(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "physical_name": self.physical_name,
            "arn": self.arn,
            "url": self.url,
            "supported": self.supported,
        }


@dataclass
class FunctionSpec:
    """An AWS::Serverless::Function (or AWS::Lambda::Function with local code) ready to run."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str  # "module.attr", e.g. "app.handler"
    runtime: str
    timeout: float  # seconds
    memory_size: int  # MB
    environment: dict[str, str]
    layer_dirs: list[Path] = field(default_factory=list)  # put on sys.path after code_dir
    # Where failed asynchronous invocations go (DeadLetterQueue, or EventInvokeConfig OnFailure SQS).
    dead_letter_queue_arn: str | None = None


@dataclass
class SqsEventSource:
    function: str  # logical id
    queue_arn: str
    queue_url: str
    batch_size: int = 10
    batching_window_s: float = 0.0
    report_batch_item_failures: bool = False
    enabled: bool = True


@dataclass
class S3EventSource:
    function: str | None  # logical id of a function target, or
    queue_arn: str | None  # an SQS queue target
    bucket: str
    events: list[str]  # e.g. ["s3:ObjectCreated:*"]
    prefix: str = ""
    suffix: str = ""


@dataclass
class ScheduleSource:
    function: str
    expression: str  # rate(...) or cron(...)
    input: str | None = None
    enabled: bool = True


@dataclass
class HttpRoute:
    api: str  # logical id of the HttpApi (ServerlessHttpApi for the implicit one)
    method: str  # "GET", ... or "ANY"
    path: str  # "/v1/jobs/{job_id}", "/{proxy+}" or "$default"
    function: str  # logical id
    payload_format: Literal["1.0", "2.0"] = "2.0"
    stage: str = "$default"


@dataclass
class CorsConfig:
    allow_origins: list[str] = field(default_factory=list)
    allow_methods: list[str] = field(default_factory=list)
    allow_headers: list[str] = field(default_factory=list)
    expose_headers: list[str] = field(default_factory=list)
    allow_credentials: bool = False
    max_age: int | None = None


@dataclass
class WebSocketApi:
    logical_id: str
    api_id: str
    stage: str
    route_selection_expression: str  # e.g. "$request.body.action"
    routes: dict[str, str]  # route key ("$connect", "$default", "subscribe") -> function logical id


@dataclass
class Deployment:
    """A template loaded, resolved and (after provisioning) live."""

    template_path: Path
    resources: dict[str, Resource]
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    http_routes: list[HttpRoute] = field(default_factory=list)
    cors: dict[str, CorsConfig] = field(default_factory=dict)  # per HttpApi logical id
    websocket_apis: list[WebSocketApi] = field(default_factory=list)
    sqs_sources: list[SqsEventSource] = field(default_factory=list)
    s3_sources: list[S3EventSource] = field(default_factory=list)
    schedules: list[ScheduleSource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def function_by_any_name(self, name: str) -> FunctionSpec | None:
        """Find a function by logical id, physical name, ARN or qualified ARN."""
        if name.startswith("arn:"):
            parts = name.split(":")
            name = parts[6] if len(parts) > 6 else name
        for spec in self.functions.values():
            if name in (spec.logical_id, spec.name):
                return spec
        return None


@dataclass
class InvokeResult:
    """What Lambda's Invoke API returns: a payload, and an error type when the function failed."""

    payload: bytes
    function_error: str | None = None  # "Unhandled" when the handler raised or timed out
    log_tail: str = ""
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.function_error is None


class Invoker(Protocol):
    """Anything that can run a function: the Lambda host, or a test double in unit tests."""

    def invoke(
        self, function: str, payload: bytes, invocation_type: InvocationType = "RequestResponse"
    ) -> InvokeResult: ...
