"""S3 bucket notifications, emulated: match an object event to the configured targets and build the record.

The record is the one S3 sends (event message structure version 2.1): the key URL-encoded the way S3
encodes it (spaces as `+`), no size or eTag on removals, and a sequencer that grows with every event.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from endurance_local.model import ACCOUNT_ID, REGION, S3EventSource

# Principal ids of the local caller and bucket owner: any stable values of the shape S3 uses.
LOCAL_PRINCIPAL_ID = f"AWS:{ACCOUNT_ID}"
BUCKET_OWNER_ID = "A3LOCALENDURANCE"

_sequence_lock = threading.Lock()
_last_sequence = 0


def normalise_event_name(event_name: str) -> str:
    """`s3:ObjectCreated:Put` or `ObjectCreated:Put` -> `ObjectCreated:Put` (the record's eventName)."""
    return event_name[3:] if event_name.startswith("s3:") else event_name


def event_name_matches(pattern: str, event_name: str) -> bool:
    """S3's event type matching: `s3:ObjectCreated:*` covers every creation, otherwise names are exact."""
    wanted = normalise_event_name(pattern)
    actual = normalise_event_name(event_name)
    if wanted.endswith(":*"):
        return actual.startswith(wanted[:-1])
    return wanted == actual


def source_matches(source: S3EventSource, event_name: str, bucket: str, key: str) -> bool:
    """Whether a notification configuration fires for this object event (filters apply to the raw key)."""
    return (
        source.bucket == bucket
        and any(event_name_matches(pattern, event_name) for pattern in source.events)
        and key.startswith(source.prefix)
        and key.endswith(source.suffix)
    )


def encode_key(key: str) -> str:
    """S3 URL-encodes keys in notifications as form data: `my file.txt` -> `my+file.txt`, `/` kept."""
    return quote_plus(key, safe="/")


def configuration_id(source: S3EventSource) -> str:
    """A stable id for a notification configuration, as SAM would generate one per event."""
    target = source.function or source.queue_arn or ""
    digest = hashlib.sha1(f"{target}|{source.bucket}|{','.join(source.events)}".encode()).hexdigest()
    return f"{target.rsplit(':', 1)[-1]}-{digest[:12]}"


def next_sequencer() -> str:
    """A hex sequencer that strictly grows across events, as S3's does for one key."""
    global _last_sequence
    with _sequence_lock:
        _last_sequence = max(time.time_ns(), _last_sequence + 1)
        return f"{_last_sequence:018X}"


def _iso_millis(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def build_s3_record(
    source: S3EventSource,
    event_name: str,
    bucket: str,
    key: str,
    size: int | None,
    etag: str | None,
    event_time: datetime | None = None,
) -> dict[str, Any]:
    """One record of an S3 event notification for this object event and configuration."""
    name = normalise_event_name(event_name)
    s3_object: dict[str, Any] = {"key": encode_key(key)}
    # S3 leaves size and eTag out of removal records.
    if not name.startswith("ObjectRemoved"):
        if size is not None:
            s3_object["size"] = size
        if etag:
            s3_object["eTag"] = etag.strip('"')
    s3_object["sequencer"] = next_sequencer()
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": _iso_millis(event_time or datetime.now(UTC)),
        "eventName": name,
        "userIdentity": {"principalId": LOCAL_PRINCIPAL_ID},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-request-id": secrets.token_hex(8).upper(),
            "x-amz-id-2": secrets.token_urlsafe(48),
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id(source),
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": BUCKET_OWNER_ID},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": s3_object,
        },
    }
