"""The local API Gateway's HTTP API, over real HTTP against uvicorn on a loopback port."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    APIGatewayProxyEventV2Model,
)
from endurance_local.apigateway import ApiServer, build_app
from endurance_local.apigateway.http_api import RouteTable
from endurance_local.model import CorsConfig, Deployment, HttpRoute, InvokeResult, Resource

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class InProcessContext:
    """The LambdaContext attributes handlers read; the real Lambda host builds the real one."""

    function_name: str
    aws_request_id: str = "local"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:local"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class InProcessInvoker:
    """A model.Invoker that runs Python callables in this process and records every event it sent."""

    def __init__(self, functions: dict[str, Handler]) -> None:
        self.functions = functions
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def invoke(self, function: str, payload: bytes, invocation_type: str = "RequestResponse") -> InvokeResult:
        event = json.loads(payload)
        with self._lock:
            self.events.append((function, event))
        try:
            result = self.functions[function](event, InProcessContext(function))
        except Exception as exc:
            error = {"errorMessage": str(exc), "errorType": type(exc).__name__}
            return InvokeResult(json.dumps(error).encode(), function_error="Unhandled")
        return InvokeResult(json.dumps(result).encode())

    def last_event(self, function: str) -> dict[str, Any]:
        with self._lock:
            return next(e for f, e in reversed(self.events) if f == function)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- handlers --------------------------------------------------------------------------------------------


def echo_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}


def create_job(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = json.loads(event["body"])
    if "question" not in request:
        return {"statusCode": 422, "body": json.dumps({"error": "question is required"})}
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "location": "/v1/jobs/j-1"},
        "cookies": ["session=abc; Path=/; HttpOnly", "theme=dark"],
        "body": json.dumps({"job_id": "j-1", "question": request["question"]}),
    }


def reverse_bytes(event: dict[str, Any], context: Any) -> dict[str, Any]:
    assert event["isBase64Encoded"] is True
    data = base64.b64decode(event["body"])
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/octet-stream"},
        "isBase64Encoded": True,
        "body": base64.b64encode(data[::-1]).decode(),
    }


def shorthand(event: dict[str, Any], context: Any) -> Any:
    return {"hello": "world"}


def crash(event: dict[str, Any], context: Any) -> Any:
    raise RuntimeError("boom")


def rest_echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "multiValueHeaders": {"x-seen": ["a", "b"]}, "body": json.dumps(event)}


powertools_app = APIGatewayHttpResolver()


@powertools_app.get("/pt/items/<item_id>")
def get_item(item_id: str) -> dict[str, Any]:
    event = powertools_app.current_event
    return {"item_id": item_id, "q": event.get_query_string_value("q"), "cookies": event.cookies}


@powertools_app.post("/pt/items")
def post_item() -> Response:
    return Response(
        status_code=201, content_type="application/json", body={"got": powertools_app.current_event.json_body}
    )


def powertools_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return powertools_app.resolve(event, context)


# --- server ----------------------------------------------------------------------------------------------

API = "ChatApi"


def route(method: str, path: str, function: str, payload_format: str = "2.0") -> HttpRoute:
    return HttpRoute(api=API, method=method, path=path, function=function, payload_format=payload_format)  # type: ignore[arg-type]


ROUTES = [
    route("GET", "/v1/jobs/{job_id}", "Echo"),
    route("GET", "/v1/jobs/latest", "Shorthand"),
    route("POST", "/v1/jobs", "CreateJob"),
    route("ANY", "/v1/jobs/{job_id}", "Crash"),
    route("POST", "/v1/blobs", "Reverse"),
    route("GET", "/v1/hello", "Shorthand"),
    route("GET", "/v1/crash", "Crash"),
    route("ANY", "/files/{proxy+}", "Echo"),
    route("GET", "/rest/{id}", "RestEcho", payload_format="1.0"),
    route("ANY", "/pt/{proxy+}", "Powertools"),
]
FUNCTIONS: dict[str, Handler] = {
    "Echo": echo_event,
    "CreateJob": create_job,
    "Reverse": reverse_bytes,
    "Shorthand": shorthand,
    "Crash": crash,
    "RestEcho": rest_echo,
    "Powertools": powertools_handler,
}
CORS = CorsConfig(
    allow_origins=["http://localhost:5173", "https://*.example.com"],
    allow_methods=["GET", "POST"],
    allow_headers=["content-type", "authorization"],
    expose_headers=["location"],
    allow_credentials=True,
    max_age=600,
)


@dataclass
class Running:
    server: ApiServer
    client: httpx.Client
    invoker: InProcessInvoker
    resources: dict[str, Any]


def deployment(routes: list[HttpRoute], cors: dict[str, CorsConfig] | None = None) -> Deployment:
    api = Resource(logical_id=API, type="AWS::Serverless::HttpApi", properties={}, ref="a1b2c3d4e5")
    return Deployment(
        template_path=Path("template.yaml"), resources={API: api}, http_routes=routes, cors=cors or {}
    )


def start(dep: Deployment, invoker: InProcessInvoker, static_dir: Path | None = None) -> Running:
    port = free_port()
    resources = {"ChatApi": {"type": "AWS::Serverless::HttpApi", "url": f"http://127.0.0.1:{port}"}}
    app = build_app(
        dep, invoker, api_host="127.0.0.1", api_port=port, resources=lambda: resources, static_dir=static_dir
    )
    server = ApiServer(app, host="127.0.0.1", port=port)
    server.start()
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=10)
    return Running(server, client, invoker, resources)


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dashboard")
    (root / "index.html").write_text("<html>dashboard</html>")
    (root / "assets").mkdir()
    (root / "assets" / "app.js").write_text("console.log('hi')")
    (root.parent / "secret.txt").write_text("secret")
    return root


@pytest.fixture(scope="module")
def api(static_dir: Path) -> Iterator[Running]:
    running = start(deployment(ROUTES, {API: CORS}), InProcessInvoker(FUNCTIONS), static_dir)
    yield running
    running.client.close()
    running.server.stop()


# --- tests -----------------------------------------------------------------------------------------------


def test_path_and_query_parameters_arrive_as_a_valid_v2_event(api: Running) -> None:
    response = api.client.get(
        "/v1/jobs/j-42?status=done&tag=a&tag=b&empty=",
        headers=[("X-Trace", "one"), ("X-Trace", "two"), ("User-Agent", "pytest-agent")],
    )
    assert response.status_code == 200
    event = response.json()
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /v1/jobs/{job_id}"
    assert event["rawPath"] == "/v1/jobs/j-42"
    assert event["rawQueryString"] == "status=done&tag=a&tag=b&empty="
    assert event["pathParameters"] == {"job_id": "j-42"}
    assert event["queryStringParameters"] == {"status": "done", "tag": "a,b", "empty": ""}
    assert event["headers"]["x-trace"] == "one,two"
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert "body" not in event and event["isBase64Encoded"] is False
    assert "stageVariables" not in event and "cookies" not in event
    context = event["requestContext"]
    assert context["apiId"] == "a1b2c3d4e5"
    assert context["stage"] == "$default"
    assert context["http"] == {
        "method": "GET",
        "path": "/v1/jobs/j-42",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "pytest-agent",
    }
    assert context["requestId"] == response.headers["apigw-requestid"]
    assert isinstance(context["timeEpoch"], int)
    parsed = parse(event=event, model=APIGatewayProxyEventV2Model)
    assert parsed.requestContext.http.method == "GET"


def test_literal_route_beats_parameter_and_method_beats_any(api: Running) -> None:
    assert api.client.get("/v1/jobs/latest").json() == {"hello": "world"}
    # GET /v1/jobs/{job_id} wins over ANY /v1/jobs/{job_id}; DELETE only matches the ANY route.
    assert api.client.get("/v1/jobs/x").status_code == 200
    crashed = api.client.delete("/v1/jobs/x")
    assert crashed.status_code == 500
    assert api.invoker.last_event("Crash")["routeKey"] == "ANY /v1/jobs/{job_id}"


def test_json_body_created_response_with_headers_and_cookies(api: Running) -> None:
    response = api.client.post(
        "/v1/jobs", json={"question": "What is RAG?"}, headers={"cookie": "a=1; b=2", "origin": "http://x"}
    )
    assert response.status_code == 201
    assert response.json() == {"job_id": "j-1", "question": "What is RAG?"}
    assert response.headers["location"] == "/v1/jobs/j-1"
    assert response.headers.get_list("set-cookie") == ["session=abc; Path=/; HttpOnly", "theme=dark"]
    event = api.invoker.last_event("CreateJob")
    assert json.loads(event["body"]) == {"question": "What is RAG?"}
    assert event["isBase64Encoded"] is False
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["content-type"] == "application/json"


def test_handler_4xx_passes_through(api: Running) -> None:
    response = api.client.post("/v1/jobs", json={"nope": 1})
    assert response.status_code == 422
    assert response.json() == {"error": "question is required"}


def test_binary_body_is_base64_both_ways(api: Running) -> None:
    data = bytes(range(256))
    response = api.client.post(
        "/v1/blobs", content=data, headers={"content-type": "application/octet-stream"}
    )
    assert response.status_code == 200
    assert response.content == data[::-1]
    assert base64.b64decode(api.invoker.last_event("Reverse")["body"]) == data


def test_non_utf8_text_body_is_base64(api: Running) -> None:
    api.client.post("/v1/blobs", content=b"\xff\xfe", headers={"content-type": "text/plain"})
    event = api.invoker.last_event("Reverse")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe"


def test_v2_shorthand_and_handler_failure(api: Running) -> None:
    hello = api.client.get("/v1/hello")
    assert hello.status_code == 200
    assert hello.headers["content-type"] == "application/json"
    assert hello.json() == {"hello": "world"}
    crashed = api.client.get("/v1/crash")
    assert crashed.status_code == 500
    assert crashed.json() == {"message": "Internal Server Error"}


def test_greedy_proxy_and_not_found(api: Running) -> None:
    event = api.client.get("/files/a/b/report.pdf").json()
    assert event["pathParameters"] == {"proxy": "a/b/report.pdf"}
    assert event["routeKey"] == "ANY /files/{proxy+}"
    # A greedy variable needs at least one segment; no $default route here, so API Gateway's 404.
    missing = api.client.post("/files")
    assert missing.status_code == 404
    assert missing.json() == {"message": "Not Found"}
    assert api.client.put("/nowhere/at/all").json() == {"message": "Not Found"}


def test_cors_preflight_and_response_headers(api: Running) -> None:
    preflight = api.client.options(
        "/v1/jobs",
        headers={
            "origin": "http://localhost:5173",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert preflight.headers["access-control-allow-methods"] == "GET,POST"
    assert preflight.headers["access-control-allow-headers"] == "content-type,authorization"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert preflight.headers["access-control-max-age"] == "600"

    actual = api.client.post(
        "/v1/jobs", json={"question": "q"}, headers={"origin": "https://app.example.com"}
    )
    assert actual.headers["access-control-allow-origin"] == "https://app.example.com"
    assert actual.headers["access-control-expose-headers"] == "location"

    stranger = api.client.options(
        "/v1/jobs", headers={"origin": "https://evil.test", "access-control-request-method": "POST"}
    )
    assert stranger.status_code == 204
    assert "access-control-allow-origin" not in stranger.headers
    assert (
        "access-control-allow-origin"
        not in api.client.get("/v1/hello", headers={"origin": "https://evil.test"}).headers
    )


def test_powertools_http_resolver_runs_on_the_event(api: Running) -> None:
    got = api.client.get("/pt/items/42?q=term", headers={"cookie": "sid=s1"})
    assert got.status_code == 200, got.text
    assert got.json() == {"item_id": "42", "q": "term", "cookies": ["sid=s1"]}
    posted = api.client.post("/pt/items", json={"name": "widget"})
    assert posted.status_code == 201, posted.text
    assert posted.json() == {"got": {"name": "widget"}}
    assert api.client.get("/pt/unknown").status_code == 404


def test_payload_format_1_0(api: Running) -> None:
    response = api.client.get("/rest/7?x=1&x=2", headers=[("X-Many", "a"), ("X-Many", "b")])
    assert response.status_code == 200
    assert response.headers.get_list("x-seen") == ["a", "b"]
    event = response.json()
    assert event["httpMethod"] == "GET"
    assert event["resource"] == "/rest/{id}"
    assert event["path"] == "/rest/7"
    assert event["pathParameters"] == {"id": "7"}
    assert event["queryStringParameters"] == {"x": "2"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["multiValueHeaders"]["x-many"] == ["a", "b"]
    parsed = parse(event=event, model=APIGatewayProxyEventModel)
    assert parsed.requestContext.resourcePath == "/rest/{id}"


def test_resources_and_static_dashboard(api: Running) -> None:
    assert api.client.get("/__local/resources").json() == api.resources
    assert api.client.get("/").text == "<html>dashboard</html>"
    assert api.client.get("/assets/app.js").text == "console.log('hi')"
    browser = {"accept": "text/html,application/xhtml+xml"}
    assert api.client.get("/jobs/some-client-route", headers=browser).text == "<html>dashboard</html>"
    # An API client asking for an unknown path gets API Gateway's JSON 404, not the app shell.
    unknown = api.client.get("/v1/nothing-here", headers={"accept": "application/json"})
    assert unknown.status_code == 404 and unknown.json() == {"message": "Not Found"}
    assert api.client.get("/assets/missing.js").status_code == 404
    escape = api.client.get("/%2e%2e/secret.txt")
    assert escape.status_code == 404
    assert "secret" not in escape.text
    # Static files never shadow the API, and only GET reads them.
    assert api.client.get("/v1/hello").json() == {"hello": "world"}
    assert api.client.post("/").status_code == 404


def test_default_route_catches_the_rest_and_restart_on_same_port() -> None:
    routes = [
        route("GET", "/v1/hello", "Shorthand"),
        HttpRoute(api=API, method="ANY", path="$default", function="Echo"),
    ]
    running = start(deployment(routes), InProcessInvoker(FUNCTIONS))
    try:
        event = running.client.patch("/anything/here?z=1", content=b"x").json()
        assert event["routeKey"] == "$default"
        assert event["requestContext"]["routeKey"] == "$default"
        assert event["rawPath"] == "/anything/here"
        assert "pathParameters" not in event
        assert running.client.get("/v1/hello").json() == {"hello": "world"}

        running.server.stop()
        with pytest.raises(httpx.ConnectError):
            running.client.get("/v1/hello")
        running.server.start()
        assert running.client.get("/v1/hello").json() == {"hello": "world"}
    finally:
        running.client.close()
        running.server.stop()


def test_start_fails_loudly_when_the_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = build_app(
            deployment([]), InProcessInvoker({}), api_host="127.0.0.1", api_port=port, resources=dict
        )
        with pytest.raises(RuntimeError, match="could not listen"):
            ApiServer(app, host="127.0.0.1", port=port).start()


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/a/b", "GET /a/b"),
        ("POST", "/a/b", "ANY /a/b"),
        ("GET", "/a/z", "GET /a/{x}"),
        ("GET", "/a/z/y", "GET /a/{proxy+}"),
        ("GET", "/q/z", "ANY /{proxy+}"),
        ("GET", "/", "$default"),
        ("GET", "/a/", "ANY /{proxy+}"),
    ],
)
def test_route_table_prefers_the_most_specific_route(method: str, path: str, expected: str) -> None:
    table = RouteTable(
        [
            route("ANY", "/{proxy+}", "f"),
            route("GET", "/a/{proxy+}", "f"),
            route("GET", "/a/{x}", "f"),
            route("ANY", "/a/b", "f"),
            route("GET", "/a/b", "f"),
            HttpRoute(api=API, method="ANY", path="$default", function="f"),
        ]
    )
    match = table.match(method, path)
    assert match is not None
    assert match.compiled.route_key == expected
