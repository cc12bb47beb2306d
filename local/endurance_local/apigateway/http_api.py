"""The HTTP API half of the local API Gateway: route matching, Lambda proxy events, response mapping, CORS.

Events follow what API Gateway HTTP APIs send to a Lambda proxy integration (payload format 2.0, and
1.0 for routes that ask for it), so handlers written for AWS, including Powertools' resolvers, run
unchanged. The same module holds the few helpers the WebSocket half shares (ids, clocks, invoking).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from endurance_local.model import ACCOUNT_ID, CorsConfig, Deployment, HttpRoute, Invoker

logger = logging.getLogger(__name__)

DEFAULT_ROUTE = "$default"
DEFAULT_STAGE = "$default"
HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Content types API Gateway passes through as text; everything else is base64-encoded. Form posts are
# base64-encoded by HTTP APIs too, which surprises people on AWS, so they are kept binary here.
_TEXT_TYPES = ("application/json", "application/javascript", "application/xml", "application/graphql")
_TEXT_SUFFIXES = ("+json", "+xml")


# --- helpers shared with the WebSocket API -------------------------------------------------------------


def new_aws_id() -> str:
    """An id shaped like API Gateway's request and connection ids: 16 URL-safe chars ending in '='."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode("ascii")


def now_ms() -> int:
    return int(time.time() * 1000)


def clf_time(epoch_ms: int) -> str:
    """The Common Log Format time API Gateway puts in requestTime: 12/Mar/2020:19:03:58 +0000."""
    t = time.gmtime(epoch_ms / 1000)
    clock = f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{clock} +0000"


@dataclass
class Invocation:
    """The outcome of one synchronous invoke: ok is False when the function failed or returned non-JSON."""

    ok: bool
    value: Any = None


async def invoke_json(invoker: Invoker, function: str, event: dict[str, Any]) -> Invocation:
    """Invoke on a worker thread so the event loop keeps serving @connections posts the handler makes."""
    payload = json.dumps(event).encode("utf-8")
    try:
        result = await run_in_threadpool(invoker.invoke, function, payload, "RequestResponse")
    except Exception:
        logger.exception("invoking %s failed", function)
        return Invocation(ok=False)
    if not result.ok:
        logger.warning("%s failed (%s): %s", function, result.function_error, result.payload[:2000])
        return Invocation(ok=False)
    if not result.payload.strip():
        return Invocation(ok=True, value=None)
    try:
        return Invocation(ok=True, value=json.loads(result.payload))
    except ValueError:
        logger.warning("%s returned a payload that is not JSON: %r", function, result.payload[:200])
        return Invocation(ok=False)


def group_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def split_query(raw_query: str) -> dict[str, list[str]]:
    return group_pairs(parse_qsl(raw_query, keep_blank_values=True))


def is_text_content(content_type: str | None) -> bool:
    if not content_type:
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith("text/") or media_type in _TEXT_TYPES or media_type.endswith(_TEXT_SUFFIXES)


def encode_body(body: bytes, content_type: str | None) -> tuple[str | None, bool]:
    """(body, isBase64Encoded) as API Gateway puts them in an event."""
    if not body:
        return None, False
    if is_text_content(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


# --- route table -----------------------------------------------------------------------------------------

_LITERAL, _PARAM, _GREEDY = 3, 2, 1


@dataclass(frozen=True)
class CompiledRoute:
    route: HttpRoute
    segments: tuple[str, ...]

    @classmethod
    def of(cls, route: HttpRoute) -> CompiledRoute:
        return cls(route, tuple(route.path[1:].split("/")) if route.path != DEFAULT_ROUTE else ())

    @property
    def is_default(self) -> bool:
        return self.route.path == DEFAULT_ROUTE

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.is_default else f"{self.route.method.upper()} {self.route.path}"

    @property
    def stage_prefix(self) -> str:
        return "" if self.route.stage == DEFAULT_STAGE else f"/{self.route.stage}"

    def _rank(self, segment: str) -> int:
        if segment.startswith("{") and segment.endswith("+}"):
            return _GREEDY
        if segment.startswith("{") and segment.endswith("}"):
            return _PARAM
        return _LITERAL

    def specificity(self, method: str) -> tuple[list[int], int]:
        """Higher wins: literal beats {param} beats {proxy+}, segment by segment, then method beats ANY."""
        return [self._rank(s) for s in self.segments], int(self.route.method.upper() == method)

    def method_matches(self, method: str) -> bool:
        return self.route.method.upper() in ("ANY", method)

    def match_path(self, path: str) -> dict[str, str] | None:
        """Path parameters when `path` (decoded, stage included) matches, else None."""
        if self.is_default:
            return {}
        prefix = self.stage_prefix
        if prefix:
            if not path.startswith(prefix + "/"):
                return None
            path = path[len(prefix) :]
        parts = path[1:].split("/")
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            rank = self._rank(segment)
            if rank == _GREEDY:
                rest = "/".join(parts[index:])
                if not rest:
                    return None  # like AWS, /{proxy+} does not match the bare prefix
                params[segment[1:-2]] = rest
                return params
            if index >= len(parts):
                return None
            if rank == _PARAM:
                if not parts[index]:
                    return None
                params[segment[1:-1]] = parts[index]
            elif segment != parts[index]:
                return None
        return params if len(parts) == len(self.segments) else None


@dataclass
class RouteMatch:
    compiled: CompiledRoute
    path_parameters: dict[str, str]


class RouteTable:
    def __init__(self, routes: Iterable[HttpRoute]) -> None:
        self._routes = [CompiledRoute.of(r) for r in routes]

    def match(self, method: str, path: str, *, include_default: bool = True) -> RouteMatch | None:
        best: RouteMatch | None = None
        best_key: tuple[list[int], int] | None = None
        for compiled in self._routes:
            if compiled.is_default or not compiled.method_matches(method):
                continue
            params = compiled.match_path(path)
            if params is None:
                continue
            key = compiled.specificity(method)
            if best_key is None or key > best_key:
                best, best_key = RouteMatch(compiled, params), key
        if best is None and include_default:
            default = next((c for c in self._routes if c.is_default), None)
            if default is not None:
                return RouteMatch(default, {})
        return best

    def api_for_path(self, path: str) -> str | None:
        """The API that owns a path whatever the method: a CORS preflight is answered by that API."""
        candidates = [c for c in self._routes if not c.is_default and c.match_path(path) is not None]
        if candidates:
            return max(candidates, key=lambda c: c.specificity("")).route.api
        default = next((c for c in self._routes if c.is_default), None)
        return default.route.api if default else None


# --- events ----------------------------------------------------------------------------------------------


@dataclass
class IncomingRequest:
    """What the events are built from, taken off the ASGI request once."""

    method: str
    raw_path: str
    path: str
    raw_query: str
    headers: list[tuple[str, str]]  # lower-cased names, in arrival order
    body: bytes
    source_ip: str

    @classmethod
    async def read(cls, request: Request) -> IncomingRequest:
        scope = request.scope
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        return cls(
            method=request.method,
            raw_path=raw_path.decode("latin-1"),
            path=scope["path"],
            raw_query=scope.get("query_string", b"").decode("latin-1"),
            headers=[(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]],
            body=await request.body(),
            source_ip=request.client.host if request.client else "127.0.0.1",
        )

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name]
        return ",".join(values) if values else None


@dataclass(frozen=True)
class EventContext:
    api_id: str
    domain_name: str
    request_id: str
    epoch_ms: int

    @property
    def domain_prefix(self) -> str:
        return self.domain_name.split(".", 1)[0]


def _forwarded_headers(req: IncomingRequest, domain_name: str) -> list[tuple[str, str]]:
    """The headers API Gateway adds in front of the integration."""
    port = domain_name.rsplit(":", 1)[1] if ":" in domain_name else "80"
    added = [("x-forwarded-for", req.source_ip), ("x-forwarded-port", port), ("x-forwarded-proto", "http")]
    present = {k for k, _ in req.headers}
    return [h for h in added if h[0] not in present]


def build_event_v2(req: IncomingRequest, match: RouteMatch, ctx: EventContext) -> dict[str, Any]:
    compiled = match.compiled
    headers_in = [*req.headers, *_forwarded_headers(req, ctx.domain_name)]
    # HTTP APIs move the Cookie header into `cookies` and comma-join repeated headers.
    cookies = [c.strip() for k, v in headers_in if k == "cookie" for c in v.split(";") if c.strip()]
    headers = {k: ",".join(vs) for k, vs in group_pairs(headers_in).items() if k != "cookie"}
    body, is_b64 = encode_body(req.body, req.header("content-type"))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": compiled.route_key,
        "rawPath": req.raw_path,
        "rawQueryString": req.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": ctx.api_id,
            "domainName": ctx.domain_name,
            "domainPrefix": ctx.domain_prefix,
            "http": {
                "method": req.method,
                "path": req.path,
                "protocol": "HTTP/1.1",
                "sourceIp": req.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": ctx.request_id,
            "routeKey": compiled.route_key,
            "stage": compiled.route.stage,
            "time": clf_time(ctx.epoch_ms),
            "timeEpoch": ctx.epoch_ms,
        },
        "isBase64Encoded": is_b64,
    }
    if cookies:
        event["cookies"] = cookies
    query = split_query(req.raw_query)
    if query:
        event["queryStringParameters"] = {k: ",".join(vs) for k, vs in query.items()}
    if match.path_parameters:
        event["pathParameters"] = match.path_parameters
    if body is not None:
        event["body"] = body
    return event


def build_event_v1(req: IncomingRequest, match: RouteMatch, ctx: EventContext) -> dict[str, Any]:
    compiled = match.compiled
    headers_in = [*req.headers, *_forwarded_headers(req, ctx.domain_name)]
    multi_headers = group_pairs(headers_in)
    query = split_query(req.raw_query)
    body, is_b64 = encode_body(req.body, req.header("content-type"))
    resource = compiled.route.path
    user_agent = req.header("user-agent")
    return {
        "version": "1.0",
        "resource": resource,
        "path": req.path,
        "httpMethod": req.method,
        "headers": {k: vs[-1] for k, vs in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: vs[-1] for k, vs in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": ctx.api_id,
            "domainName": ctx.domain_name,
            "domainPrefix": ctx.domain_prefix,
            "extendedRequestId": ctx.request_id,
            "httpMethod": req.method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": req.source_ip,
                "user": None,
                "userAgent": user_agent,
                "userArn": None,
            },
            "path": req.path,
            "protocol": "HTTP/1.1",
            "requestId": ctx.request_id,
            "requestTime": clf_time(ctx.epoch_ms),
            "requestTimeEpoch": ctx.epoch_ms,
            "resourceId": compiled.route_key,
            "resourcePath": resource,
            "stage": compiled.route.stage,
        },
        "pathParameters": match.path_parameters or None,
        "stageVariables": None,
        "body": body,
        "isBase64Encoded": is_b64,
    }


# --- responses -------------------------------------------------------------------------------------------


def internal_server_error() -> Response:
    return JSONResponse({"message": "Internal Server Error"}, status_code=500)


def not_found() -> Response:
    return JSONResponse({"message": "Not Found"}, status_code=404)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def map_lambda_response(value: Any, payload_format: str) -> Response:
    """Turn a handler's return value into the HTTP response API Gateway would send."""
    if not (isinstance(value, dict) and "statusCode" in value):
        if payload_format == "1.0":
            logger.warning("a payload format 1.0 handler returned no statusCode: %r", value)
            return internal_server_error()
        # Payload format 2.0 shorthand: any JSON value is a 200 application/json body.
        return Response(_as_text(value), status_code=200, media_type="application/json")
    try:
        status = int(value["statusCode"])
        raw_body = value.get("body")
        text = "" if raw_body is None else _as_text(raw_body)
        content = base64.b64decode(text) if value.get("isBase64Encoded") else text.encode("utf-8")
    except (TypeError, ValueError):
        logger.warning("malformed Lambda proxy response: %r", value)
        return internal_server_error()
    pairs: list[tuple[str, str]] = []
    for name, values in (value.get("multiValueHeaders") or {}).items():
        pairs.extend((name, str(v)) for v in values)
    seen = {n.lower() for n, _ in pairs}
    pairs.extend((n, str(v)) for n, v in (value.get("headers") or {}).items() if n.lower() not in seen)
    pairs.extend(("set-cookie", str(c)) for c in value.get("cookies") or [])
    response = Response(content, status_code=status)
    response.raw_headers.extend(
        (n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in pairs if n.lower() != "content-length"
    )
    return response


# --- CORS ------------------------------------------------------------------------------------------------


def _origin_allowed(cors: CorsConfig, origin: str) -> bool:
    for allowed in cors.allow_origins:
        if allowed in ("*", origin):
            return True
        # HTTP APIs accept one wildcard for subdomains, e.g. https://*.example.com.
        if "*" in allowed:
            head, tail = allowed.split("*", 1)
            if origin.startswith(head) and origin.endswith(tail) and len(origin) > len(head) + len(tail):
                return True
    return False


def _allow_origin_value(cors: CorsConfig, origin: str) -> str:
    return "*" if "*" in cors.allow_origins and not cors.allow_credentials else origin


def preflight_response(cors: CorsConfig, req: IncomingRequest) -> Response:
    response = Response(status_code=204)
    origin = req.header("origin")
    if not origin or not _origin_allowed(cors, origin):
        return response
    requested_method = (req.header("access-control-request-method") or "").upper()
    requested_headers = req.header("access-control-request-headers") or ""
    methods = [m.upper() for m in cors.allow_methods]
    if "*" not in methods and requested_method and requested_method not in methods:
        return response
    h = response.headers
    h["access-control-allow-origin"] = _allow_origin_value(cors, origin)
    h["access-control-allow-methods"] = requested_method if "*" in methods else ",".join(methods)
    if cors.allow_headers:
        wildcard = "*" in cors.allow_headers
        h["access-control-allow-headers"] = requested_headers if wildcard else ",".join(cors.allow_headers)
    if cors.allow_credentials:
        h["access-control-allow-credentials"] = "true"
    if cors.max_age is not None:
        h["access-control-max-age"] = str(cors.max_age)
    if h["access-control-allow-origin"] != "*":
        h["vary"] = "origin"
    return response


def apply_cors(cors: CorsConfig, req: IncomingRequest, response: Response) -> None:
    """API Gateway's CORS headers replace whatever the integration set."""
    origin = req.header("origin")
    if not origin:
        return
    response.raw_headers[:] = [
        (k, v) for k, v in response.raw_headers if not k.lower().startswith(b"access-control-")
    ]
    if not _origin_allowed(cors, origin):
        return
    h = response.headers
    h["access-control-allow-origin"] = _allow_origin_value(cors, origin)
    if cors.allow_credentials:
        h["access-control-allow-credentials"] = "true"
    if cors.expose_headers:
        h["access-control-expose-headers"] = ",".join(cors.expose_headers)


# --- the gateway -----------------------------------------------------------------------------------------


class StaticFallback(Protocol):
    """Files served for GET requests that no API route takes (the dashboard)."""

    def file(self, path: str) -> Response | None: ...

    def index(self, path: str) -> Response | None: ...


class HttpApiGateway:
    def __init__(
        self,
        deployment: Deployment,
        invoker: Invoker,
        *,
        domain_name: str,
        static: StaticFallback | None = None,
    ) -> None:
        self._deployment = deployment
        self._invoker = invoker
        self._domain_name = domain_name
        self._static = static
        self._routes = RouteTable(deployment.http_routes)

    def _api_id(self, api_logical_id: str) -> str:
        resource = self._deployment.resources.get(api_logical_id)
        if resource is not None and (resource.ref or resource.physical_name):
            return resource.ref or resource.physical_name or api_logical_id
        return api_logical_id.lower()[:10]

    def _cors_for(self, api_logical_id: str | None) -> CorsConfig | None:
        if api_logical_id is not None:
            return self._deployment.cors.get(api_logical_id)
        # A preflight for a path no route owns: with a single API there is no doubt whose CORS applies.
        configs = list(self._deployment.cors.values())
        return configs[0] if len(configs) == 1 else None

    async def handle(self, request: Request) -> Response:
        req = await IncomingRequest.read(request)
        is_preflight = req.method == "OPTIONS" and req.header("access-control-request-method") is not None
        if is_preflight:
            cors = self._cors_for(self._routes.api_for_path(req.path))
            if cors is not None:
                return preflight_response(cors, req)
        reads = req.method in ("GET", "HEAD")
        match = self._routes.match(req.method, req.path, include_default=False)
        if match is None and reads and self._static is not None:
            static_response = self._static.file(req.path)
            if static_response is not None:
                return static_response
        if match is None:
            match = self._routes.match(req.method, req.path)
        if match is None:
            # Only a browser navigation gets the app shell; an API client asking for an unknown path
            # gets API Gateway's JSON 404, as it would on AWS.
            wants_html = "text/html" in (req.header("accept") or "")
            if reads and wants_html and self._static is not None:
                index_response = self._static.index(req.path)
                if index_response is not None:
                    return index_response
            return not_found()
        response = await self._invoke(req, match)
        cors = self._cors_for(match.compiled.route.api)
        if cors is not None:
            apply_cors(cors, req, response)
        return response

    async def _invoke(self, req: IncomingRequest, match: RouteMatch) -> Response:
        route = match.compiled.route
        ctx = EventContext(
            api_id=self._api_id(route.api),
            domain_name=self._domain_name,
            request_id=new_aws_id(),
            epoch_ms=now_ms(),
        )
        build = build_event_v1 if route.payload_format == "1.0" else build_event_v2
        outcome = await invoke_json(self._invoker, route.function, build(req, match, ctx))
        response = map_lambda_response(outcome.value, route.payload_format) if outcome.ok else None
        if response is None:
            response = internal_server_error()
        response.headers["apigw-requestid"] = ctx.request_id
        return response
