"""Documents bucket events -> the vector index, with each document's status in the documents table.

ObjectCreated: PENDING, then INDEXED (with its chunk count) or FAILED (with the reason). A document that
fails is recorded FAILED and then raised, so the asynchronous invocation's retries and then the function's
DeadLetterQueue (IngestDLQ) get it: never silently dropped. The other records of the event are processed
first (re-ingesting a document replaces it, so a retry of the whole event is harmless). ObjectRemoved:
the document's chunks and its status record are deleted.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from endurance import bootstrap
from endurance.domain.errors import PermanentError
from endurance.ingestion.ingest import IngestResult, delete_document, ingest_document

logger = Logger()


class DocumentFailed(PermanentError):
    pass


def _ingest(bucket: str, key: str) -> IngestResult:
    documents = bootstrap.documents()
    documents.set_status(key, "PENDING")
    try:
        s3_object = bootstrap.aws_client("s3").get_object(Bucket=bucket, Key=key)
        content = s3_object["Body"].read()
        result = ingest_document(
            key,
            content,
            embedder=bootstrap.embedder(),
            index=bootstrap.vector_index(),
            content_type=s3_object.get("ContentType"),
        )
    except Exception as error:
        documents.set_status(key, "FAILED", error=f"{type(error).__name__}: {error}")
        raise
    documents.set_status(key, result.status, chunks=result.chunks, error=result.error)
    return result


def _remove(key: str) -> IngestResult:
    """The object is gone: so are its chunks and its status record (GET /v1/documents no longer lists it)."""
    result = delete_document(key, index=bootstrap.vector_index())
    bootstrap.documents().delete(key)
    return result


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    failures: list[str] = []
    for record in event.get("Records", []):
        name = str(record.get("eventName", ""))
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        if name.startswith("ObjectRemoved"):
            result = _remove(key)
        elif name.startswith("ObjectCreated"):
            try:
                result = _ingest(bucket, key)
            except Exception as error:
                logger.exception("document ingestion raised", doc=key)
                failures.append(f"{key}: {type(error).__name__}: {error}")
                continue
        else:
            logger.warning("ignored S3 event", event_name=name, doc=key)
            continue
        logger.info("document processed", doc=key, status=result.status, chunks=result.chunks)
        if result.status == "FAILED":
            failures.append(f"{key}: {result.error}")
        results.append(result.to_dict())
    if failures:
        raise DocumentFailed("; ".join(failures)[:1000])
    return {"documents": results}
