"""Document routes of the HTTP API: what is indexed, and uploading a document to be indexed.

* `GET  /v1/documents`  every document's ingestion status: `{"documents": [{"doc", "status"
  (PENDING|INDEXED|FAILED), "chunks", "error", "created_at", "updated_at", "indexed_at"}]}`
* `POST /v1/documents`  upload: JSON `{"name", "content_base64"}`, or the raw file as the body with
  `?name=`. The object is put into DOCUMENTS_BUCKET; the bucket's notification runs the ingest function,
  which sets the status. Answers 202 `{"doc", "status": "PENDING", "status_url"}`.

Errors are the API's `{"error": {"code", "message"}}`: 400 (bad name, empty file, bad base64 or JSON),
413 (over MAX_DOCUMENT_BYTES), 415 (a type ingestion cannot read).
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from endurance import bootstrap
from endurance.ingestion.parsing import SUPPORTED_SUFFIXES
from http_responses import ApiError, json_response

router = Router()

# Lambda's synchronous payload limit is 6 MB and base64 adds a third: 4 MB of document fits either way.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,199}$")
_FIELDS = ("doc", "status", "chunks", "error", "created_at", "updated_at", "indexed_at")


class DocumentError(ApiError):
    """Raised by these routes; app.py's ApiError handler turns it into the JSON error."""


_json = json_response


@router.get("/v1/documents")
def list_documents() -> Response:
    rows = bootstrap.documents().list_all()
    documents = [{field: row.get(field) for field in _FIELDS} for row in rows]
    return _json(200, {"documents": documents})


@router.post("/v1/documents")
def upload_document() -> Response:
    name, content = _upload()
    settings = bootstrap.settings()
    settings.require("documents_bucket")
    bootstrap.aws_client("s3").put_object(
        Bucket=settings.documents_bucket,
        Key=name,
        Body=content,
        ContentType=SUPPORTED_SUFFIXES[_suffix(name)],
    )
    body = {"doc": name, "status": "PENDING", "bytes": len(content), "status_url": "/v1/documents"}
    return _json(202, body, headers={"Location": "/v1/documents"})


def _upload() -> tuple[str, bytes]:
    event = router.current_event
    raw = event.body or ""
    data = base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")
    content_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    query_name = (event.query_string_parameters or {}).get("name")
    if query_name is None and content_type in ("application/json", ""):
        try:
            payload = json.loads(data or b"null")
        except (ValueError, UnicodeDecodeError) as error:
            raise DocumentError(
                400, "invalid_json", 'send JSON {"name", "content_base64"} or ?name='
            ) from error
        if not isinstance(payload, dict) or set(payload) != {"name", "content_base64"}:
            raise DocumentError(400, "invalid_request", 'the JSON body must be {"name", "content_base64"}')
        name, encoded = payload["name"], payload["content_base64"]
        if not isinstance(name, str) or not isinstance(encoded, str):
            raise DocumentError(400, "invalid_request", "name and content_base64 must be strings")
        if len(encoded) > MAX_DOCUMENT_BYTES * 4 // 3 + 4:
            raise DocumentError(
                413, "payload_too_large", f"the document is over {MAX_DOCUMENT_BYTES // 1024} KB"
            )
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise DocumentError(400, "invalid_base64", "content_base64 is not valid base64") from error
    else:
        if not query_name:
            raise DocumentError(400, "missing_name", "a raw upload needs ?name=<file name>")
        name, content = query_name, data
    _check_name(name)
    if not content:
        raise DocumentError(400, "empty_document", f"{name} is empty")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise DocumentError(413, "payload_too_large", f"the document is over {MAX_DOCUMENT_BYTES // 1024} KB")
    return name, content


def _suffix(name: str) -> str:
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _check_name(name: str) -> None:
    if not _NAME.match(name) or ".." in name:
        raise DocumentError(
            400, "invalid_name", "name: 1-200 characters, letters, digits, space and ._()+- only, no folders"
        )
    if _suffix(name) not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            415, "unsupported_type", f"{name}: supported types are {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
