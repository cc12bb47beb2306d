"""One warm Lambda sandbox: a process that imports one handler and serves its invocations one at a time.

Started by `lambda_host.LambdaHost` as `python -m endurance_local.lambda_worker` with the function's
environment, its code directory as the working directory and first on PYTHONPATH. Being a process of its
own is what lets two functions both have a module named `app`, different environment variables and
module-level state that lives exactly as long as a Lambda container would.

Protocol (private to the host): one JSON object per line on the original stdin (requests) and the
original stdout (responses). The handler's own print() must not corrupt it, so at start the protocol
descriptors are duplicated and fd 1 is pointed at stderr: everything the handler writes, on either
stream, becomes a log line for the host. After each invocation a marker line (RS + "END " + request id)
is written to stderr so the host knows every log line of that invocation has been read. The first
line the worker writes is {"ready": true, "init_ms": ...}, once the handler module is imported (or failed to).
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO

from endurance_local.lambda_context import LambdaContext

LOG_END_MARKER = "\x1eEND "

Handler = Callable[[Any, LambdaContext], Any]


class InitError(Exception):
    """The handler could not be loaded; carries Lambda's error type (Runtime.ImportModuleError, ...)."""

    def __init__(self, error_type: str, message: str, stack: list[str]) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.stack = stack


def _json_default(value: Any) -> Any:
    # The Python runtime's marshaller turns Decimal (what boto3's DynamoDB layer returns) into numbers.
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _stack_of(exc: BaseException, skip_frames: int = 0) -> list[str]:
    frames = traceback.extract_tb(exc.__traceback__)[skip_frames:]
    # Only the function's own frames: the import machinery and this worker are not the user's code.
    own = [
        frame
        for frame in frames
        if frame.filename != __file__
        and not frame.filename.startswith("<frozen")
        and "importlib" not in frame.filename
    ]
    return traceback.format_list(own)


def load_handler(handler: str) -> Handler:
    """Import `module.attr` the way the Python runtime does (slashes in the module part become dots)."""
    module_name, _, attr = handler.rpartition(".")
    if not module_name or not attr:
        raise InitError("Runtime.MalformedHandlerName", f"Bad handler '{handler}': not enough values", [])
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}", _stack_of(exc)
        ) from exc
    except SyntaxError as exc:
        raise InitError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", _stack_of(exc)
        ) from exc
    except Exception as exc:
        # Any other exception raised while the module initialises is reported under its own name.
        raise InitError(type(exc).__name__, str(exc), _stack_of(exc)) from exc
    function = getattr(module, attr, None)
    if function is None or not callable(function):
        raise InitError("Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module_name}'", [])
    return function


def _error(error_type: str, message: str, request_id: str, stack: list[str]) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": stack}


def _log_error(error: dict[str, Any]) -> None:
    # Lambda writes the unhandled error to the function's log too; operators read it there.
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
    if error["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        lines.extend(frame.rstrip("\n") for frame in error["stackTrace"])
    sys.stderr.write("\n".join(lines) + "\n")


def invoke_once(handler: Handler, request: dict[str, Any]) -> dict[str, Any]:
    """Run one invocation and build the protocol response (never raises for handler faults)."""
    request_id = request["request_id"]
    context = LambdaContext(
        function_name=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""),
        function_version=os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        invoked_function_arn=request["invoked_function_arn"],
        memory_limit_in_mb=int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")),
        aws_request_id=request_id,
        log_group_name=os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
        log_stream_name=os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
        deadline_ms=int(request["deadline_ms"]),
    )
    event = json.loads(request["payload"]) if request["payload"] else {}
    try:
        result = handler(event, context)
    except Exception as exc:
        # Skip invoke_once's own frame: the trace starts in the handler, as on Lambda.
        error = _error(type(exc).__name__, str(exc), request_id, _stack_of(exc, skip_frames=1))
        _log_error(error)
        return {"request_id": request_id, "error": error}
    try:
        body = json.dumps(result, default=_json_default)
    except (TypeError, ValueError) as exc:
        error = _error("Runtime.MarshalError", f"Unable to marshal response: {exc}", request_id, [])
        _log_error(error)
        return {"request_id": request_id, "error": error}
    return {"request_id": request_id, "result": body}


def _take_protocol_streams() -> tuple[BinaryIO, BinaryIO]:
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return proto_in, proto_out


def _end_of_invocation_logs(request_id: str) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(2, f"{LOG_END_MARKER}{request_id}\n".encode())


def serve() -> int:
    proto_in, proto_out = _take_protocol_streams()
    started = time.monotonic()
    handler: Handler | None = None
    init_error: InitError | None = None
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except InitError as exc:
        init_error = exc
    init_ms = (time.monotonic() - started) * 1000
    # The host starts the invocation clock only now: Lambda's init phase does not count against the timeout.
    proto_out.write(json.dumps({"ready": True, "init_ms": init_ms}).encode() + b"\n")
    proto_out.flush()
    for line in proto_in:
        request = json.loads(line)
        if handler is None:
            assert init_error is not None
            error = _error(init_error.error_type, str(init_error), request["request_id"], init_error.stack)
            _log_error(error)
            response: dict[str, Any] = {"request_id": request["request_id"], "error": error, "fatal": True}
        else:
            response = invoke_once(handler, request)
        _end_of_invocation_logs(request["request_id"])
        proto_out.write(json.dumps(response).encode() + b"\n")
        proto_out.flush()
        if response.get("fatal"):
            # Lambda resets a sandbox whose init failed; the next invocation gets a fresh one.
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(serve())
