"""The local runtime's single AWS endpoint: moto in server mode behind a thin WSGI front.

The front does three things moto cannot do for us:

* it answers Lambda Invoke (`POST /2015-03-31/functions/{name}/invocations`) with the runtime's own
  invoker, so handlers run in the Lambda host instead of moto's Docker-based Lambda;
* it reports S3 object writes and deletes that moto accepted, so the runtime can deliver S3 notifications
  itself (moto's own notifications are not used);
* it points moto's Step Functions interpreter at itself: the interpreter calls Lambda through a boto3
  client at `http://localhost:$MOTO_PORT`, so MOTO_PORT must be this endpoint's port. MOTO_PORT and
  moto's config are process-wide: one endpoint per process runs state machines.

Everything else goes to moto unchanged.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from io import BytesIO
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

from werkzeug.serving import BaseWSGIServer, make_server

from endurance_local.model import ACCOUNT_ID, Invoker

logger = logging.getLogger(__name__)

S3EventSink = Callable[[str, str, str, "int | None", "str | None"], None]
StartResponse = Callable[..., Any]
WsgiEnviron = dict[str, Any]

_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
# Object subresources whose PUT/DELETE do not create or remove the object itself.
_NON_OBJECT_SUBRESOURCES = {
    "tagging",
    "acl",
    "retention",
    "legal-hold",
    "uploadId",
    "partNumber",
    "restore",
    "attributes",
    "torrent",
    "select",
}


def _service_of(environ: WsgiEnviron) -> str | None:
    """The SigV4 credential scope's service (header or presigned query), or None when unsigned."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = re.search(r"Credential=[^/]+/[^/]+/[^/]+/(?P<service>[^/]+)/aws4_request", auth)
    if match is None:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        credential = query.get("X-Amz-Credential", [""])[0]
        match = re.search(r"^[^/]+/[^/]+/[^/]+/(?P<service>[^/]+)/aws4_request", credential)
    return match.group("service") if match else None


def _bucket_and_key(environ: WsgiEnviron) -> tuple[str, str]:
    """Bucket and key of an S3 request, path-style or virtual-host style, decided exactly as moto does."""
    from moto.s3.responses import S3Response
    from moto.s3.utils import bucket_name_from_url

    path = environ.get("PATH_INFO", "")
    host = environ.get("HTTP_HOST", "")
    url = f"http://{host}{path}"
    probe = SimpleNamespace(headers={"host": host}, url=url)
    if host and S3Response.subdomain_based_buckets(probe):
        bucket = bucket_name_from_url(url)
        if bucket:
            return bucket, path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def _read_body(environ: WsgiEnviron) -> bytes:
    """Read the request body and put it back so moto can read it too."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = BytesIO(body)
    return body


def _xml_texts(document: bytes, path: str) -> list[str]:
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        return []
    # S3 documents come with or without the 2006-03-01 namespace; match on local names.
    for element in root.iter():
        if "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return [element.text or "" for element in root.findall(path)]


class _S3Write:
    """An S3 request that may create or remove objects, classified before moto sees it."""

    def __init__(self, event_name: str, bucket: str, key: str) -> None:
        self.event_name = event_name
        self.bucket = bucket
        self.key = key


def _classify_s3(environ: WsgiEnviron) -> _S3Write | None:
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in ("PUT", "POST", "DELETE"):
        return None
    bucket, key = _bucket_and_key(environ)
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if not bucket:
        return None
    if method == "POST" and not key and "delete" in query:
        return _S3Write("ObjectRemoved:Delete", bucket, "")
    if not key:
        return None
    if method == "POST":
        if "uploadId" in query:
            return _S3Write("ObjectCreated:CompleteMultipartUpload", bucket, key)
        return None
    if _NON_OBJECT_SUBRESOURCES & query.keys():
        return None
    if method == "PUT":
        copy = "HTTP_X_AMZ_COPY_SOURCE" in environ
        return _S3Write("ObjectCreated:Copy" if copy else "ObjectCreated:Put", bucket, key)
    return _S3Write("ObjectRemoved:Delete", bucket, key)


def _object_facts(bucket: str, key: str) -> tuple[int | None, str | None]:
    """Size and ETag of an object as moto stores it (moto runs in this process)."""
    from moto.s3.models import s3_backends

    try:
        stored = s3_backends[ACCOUNT_ID]["aws"].get_object(bucket, key)
    except Exception:
        logger.debug("could not read back s3://%s/%s from moto", bucket, key, exc_info=True)
        return None, None
    if stored is None:
        return None, None
    return int(stored.size), str(stored.etag).strip('"')


def _quiet_request_handler() -> type:
    """moto's request handler without one access-log line per request (imported late: moto is heavy)."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietMotoRequestHandler(MotoRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None

    return QuietMotoRequestHandler


class AwsEndpoint:
    """moto plus the runtime's Lambda Invoke and S3 event hooks, on one port."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 4566,
        invoker: Invoker | None = None,
        on_s3_event: S3EventSink | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._invoker = invoker
        self._on_s3_event = on_s3_event
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._moto_app: Callable[[WsgiEnviron, StartResponse], Iterable[bytes]] | None = None
        self.url = f"http://{host}:{port}"

    def set_invoker(self, invoker: Invoker) -> None:
        self._invoker = invoker

    @property
    def port(self) -> int:
        return self._port

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._server is not None:
            return
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self._moto_app = DomainDispatcherApplication(create_backend_app)
        server = make_server(
            self._host, self._port, self, threaded=True, request_handler=_quiet_request_handler()
        )
        self._server = server
        self._port = int(server.server_port)
        self.url = f"http://{self._host}:{self._port}"
        # moto's Step Functions interpreter calls Lambda (and every service task) at localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self._port)
        self._thread = threading.Thread(target=server.serve_forever, name="aws-endpoint", daemon=True)
        self._thread.start()
        try:
            # A clean slate on every start, then turn on the Step Functions interpreter.
            self._moto_api("/moto-api/reset", b"")
            config = {"stepfunctions": {"execute_state_machine": True}}
            self._moto_api("/moto-api/config", json.dumps(config).encode())
        except BaseException:
            self.stop()
            raise

    def _moto_api(self, path: str, body: bytes) -> None:
        request = urllib.request.Request(f"{self.url}{path}", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)

    def __enter__(self) -> AwsEndpoint:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- WSGI ------------------------------------------------------------------------------------------

    def __call__(self, environ: WsgiEnviron, start_response: StartResponse) -> Iterable[bytes]:
        assert self._moto_app is not None
        service = _service_of(environ)
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") == "POST" and service in (None, "lambda"):
            invoke = _INVOKE_PATH.match(path)
            if invoke is not None:
                return self._invoke(invoke.group("name"), environ, start_response)
        if service == "s3" and self._on_s3_event is not None:
            write = _classify_s3(environ)
            if write is not None:
                return self._s3_write(write, environ, start_response)
        return self._moto_app(environ, start_response)

    def _s3_write(self, write: _S3Write, environ: WsgiEnviron, start_response: StartResponse) -> list[bytes]:
        is_batch_delete = write.event_name == "ObjectRemoved:Delete" and not write.key
        request_body = _read_body(environ) if is_batch_delete else b""
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"] = status
            captured["headers"] = headers
            return start_response(status, headers, exc_info)

        result = self._moto_app(environ, capture)  # type: ignore[misc]
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status = int(str(captured.get("status", "500")).split()[0])
        if 200 <= status < 300:
            self._emit_s3_events(write, request_body, body)
        return [body]

    def _emit_s3_events(self, write: _S3Write, request_body: bytes, response_body: bytes) -> None:
        assert self._on_s3_event is not None
        if write.event_name.startswith("ObjectCreated"):
            size, etag = _object_facts(write.bucket, write.key)
            events = [(write.key, size, etag)]
        elif write.key:
            events = [(write.key, None, None)]
        else:
            # DeleteObjects: report what moto says it deleted (quiet mode lists nothing: use the request).
            deleted = _xml_texts(response_body, ".//Deleted/Key") or _xml_texts(request_body, ".//Object/Key")
            events = [(key, None, None) for key in deleted]
        for key, size, etag in events:
            try:
                self._on_s3_event(write.event_name, write.bucket, key, size, etag)
            except Exception:
                # A faulty listener must not turn a successful S3 write into a failed one.
                logger.exception(
                    "S3 event listener failed for %s s3://%s/%s", write.event_name, write.bucket, key
                )

    def _invoke(self, name: str, environ: WsgiEnviron, start_response: StartResponse) -> list[bytes]:
        payload = _read_body(environ)
        invocation_type = environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse")
        request_id = str(uuid.uuid4())
        invoker = self._invoker
        resolve = getattr(invoker, "resolve", None)
        if invoker is None or (resolve is not None and resolve(name) is None):
            return _lambda_error(
                start_response,
                "404 Not Found",
                "ResourceNotFoundException",
                f"Function not found: {name}",
                request_id,
            )
        if invocation_type == "DryRun":
            start_response("204 No Content", [("x-amzn-RequestId", request_id), ("Content-Length", "0")])
            return [b""]
        if invocation_type not in ("RequestResponse", "Event"):
            return _lambda_error(
                start_response,
                "400 Bad Request",
                "InvalidParameterValueException",
                f"Unsupported InvocationType: {invocation_type}",
                request_id,
            )
        try:
            result = invoker.invoke(name, payload, invocation_type)
        except KeyError:
            return _lambda_error(
                start_response,
                "404 Not Found",
                "ResourceNotFoundException",
                f"Function not found: {name}",
                request_id,
            )
        except ValueError as exc:
            return _lambda_error(
                start_response, "400 Bad Request", "InvalidRequestContentException", str(exc), request_id
            )
        except Exception as exc:
            logger.exception("invoking %s failed", name)
            return _lambda_error(
                start_response,
                "500 Internal Server Error",
                "ServiceException",
                f"{type(exc).__name__}: {exc}",
                request_id,
                error_kind="Service",
            )
        if invocation_type == "Event":
            start_response("202 Accepted", [("x-amzn-RequestId", request_id), ("Content-Length", "0")])
            return [b""]
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(result.payload))),
            ("x-amzn-RequestId", request_id),
            ("X-Amz-Executed-Version", "$LATEST"),
        ]
        if result.function_error:
            headers.append(("X-Amz-Function-Error", result.function_error))
        if environ.get("HTTP_X_AMZ_LOG_TYPE") == "Tail":
            headers.append(("X-Amz-Log-Result", base64.b64encode(result.log_tail.encode()).decode()))
        start_response("200 OK", headers)
        return [result.payload]


def _lambda_error(
    start_response: StartResponse,
    status: str,
    error_type: str,
    message: str,
    request_id: str,
    *,
    error_kind: str = "User",
) -> list[bytes]:
    body = json.dumps({"Type": error_kind, "Message": message}).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", error_type),
        ],
    )
    return [body]
