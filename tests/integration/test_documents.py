"""Documents through the running stack: upload (API and S3) -> ingested -> searchable -> deleted -> gone;
a document that cannot be read -> FAILED status and its event in IngestDLQ (the function's DLQ)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from endurance_cli.main import main as cli

from tests.integration.conftest import RunningStack
from tests.support import wait_for


def _documents(stack: RunningStack) -> dict[str, dict[str, Any]]:
    reply = httpx.get(f"{stack.api_url}/v1/documents", timeout=10)
    assert reply.status_code == 200, reply.text
    return {row["doc"]: row for row in reply.json()["documents"]}


def _search(capsys: pytest.CaptureFixture[str], stack: RunningStack, query: str, k: int = 5) -> list[dict]:
    capsys.readouterr()
    assert cli(["search", query, "--k", str(k), "--state-dir", str(stack.state_dir), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _status(stack: RunningStack, doc: str, wanted: str) -> dict[str, Any] | None:
    row = _documents(stack).get(doc)
    return row if row and row["status"] == wanted else None


def test_upload_search_delete(running_stack: RunningStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack = running_stack
    markdown = (
        "# Orbital Maintenance Handbook\n\n## 3. Thruster Checks\n\n### 3.1 Quarterly Inspection\n\n"
        "Every quarterly inspection of the xenon thrusters must be signed by two zorblat engineers.\n"
    )
    payload = {"name": "orbital_handbook.md", "content_base64": base64.b64encode(markdown.encode()).decode()}
    accepted = httpx.post(f"{stack.api_url}/v1/documents", json=payload, timeout=10)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["doc"] == "orbital_handbook.md" and accepted.json()["status"] == "PENDING"

    row = wait_for(lambda: _status(stack, "orbital_handbook.md", "INDEXED"), timeout=30, what="INDEXED")
    assert row["chunks"] == 1 and row["error"] is None
    assert row["created_at"] <= row["updated_at"] and row["indexed_at"]

    hits = _search(capsys, stack, "Who signs the quarterly thruster inspection?", k=3)
    assert hits[0]["doc"] == "orbital_handbook.md"
    assert hits[0]["section"] == "3. Thruster Checks > 3.1 Quarterly Inspection"
    assert set(hits[0]) == {"doc", "section", "chunk_id", "score", "text"}
    assert hits[0]["chunk_id"].startswith("orbital_handbook.md#")

    # A raw upload through S3 replaces the document: its old chunk goes, the new one comes.
    s3 = stack.client("s3")
    bucket = stack.name("DocumentsBucket")
    revised = markdown.replace("two zorblat engineers", "three zorblat engineers and the flight director")
    s3.put_object(
        Bucket=bucket, Key="orbital_handbook.md", Body=revised.encode(), ContentType="text/markdown"
    )
    wait_for(
        lambda: "flight director" in _search(capsys, stack, "zorblat thruster inspection", k=1)[0]["text"],
        timeout=30,
        what="the revised chunk",
    )
    texts = [
        h["text"]
        for h in _search(capsys, stack, "zorblat engineers", k=10)
        if h["doc"] == "orbital_handbook.md"
    ]
    assert len(texts) == 1, "replacing a document replaces its chunks"

    s3.delete_object(Bucket=bucket, Key="orbital_handbook.md")
    wait_for(lambda: "orbital_handbook.md" not in _documents(stack), timeout=30, what="the status to go")
    assert all(h["doc"] != "orbital_handbook.md" for h in _search(capsys, stack, "zorblat thruster", k=10))


def test_raw_upload_of_a_text_file(running_stack: RunningStack) -> None:
    stack = running_stack
    reply = httpx.post(
        f"{stack.api_url}/v1/documents",
        params={"name": "plain_notes.txt"},
        content=b"The canteen closes at 15:30 on Fridays.",
        headers={"content-type": "text/plain"},
        timeout=10,
    )
    assert reply.status_code == 202, reply.text
    wait_for(lambda: _status(stack, "plain_notes.txt", "INDEXED"), timeout=30, what="plain_notes.txt INDEXED")


def test_bad_uploads_are_refused(running_stack: RunningStack) -> None:
    url = f"{running_stack.api_url}/v1/documents"
    empty = {"name": "empty.md", "content_base64": ""}
    assert httpx.post(url, json=empty, timeout=10).json()["error"]["code"] == "empty_document"
    exe = {"name": "tool.exe", "content_base64": base64.b64encode(b"MZ").decode()}
    refused = httpx.post(url, json=exe, timeout=10)
    assert refused.status_code == 415 and refused.json()["error"]["code"] == "unsupported_type"
    bad = httpx.post(url, json={"name": "a.md", "content_base64": "!!not base64!!"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_base64"
    folder = httpx.post(url, json={"name": "../etc/passwd.md", "content_base64": "eA=="}, timeout=10)
    assert folder.status_code == 400 and folder.json()["error"]["code"] == "invalid_name"
    huge = httpx.post(
        url,
        params={"name": "big.txt"},
        content=b"x" * (4 * 1024 * 1024 + 1),
        headers={"content-type": "text/plain"},
        timeout=30,
    )
    assert huge.status_code == 413


def test_an_unreadable_document_is_failed_and_dead_lettered(running_stack: RunningStack) -> None:
    stack = running_stack
    s3 = stack.client("s3")
    sqs = stack.client("sqs")
    s3.put_object(
        Bucket=stack.name("DocumentsBucket"),
        Key="broken.pdf",
        Body=b"%PDF-1.4 this is not a pdf",
        ContentType="application/pdf",
    )
    row = wait_for(lambda: _status(stack, "broken.pdf", "FAILED"), timeout=30, what="broken.pdf FAILED")
    assert "broken.pdf" in row["error"]

    def dead_lettered() -> dict[str, Any] | None:
        reply = sqs.receive_message(
            QueueUrl=stack.queue_url("IngestDLQ"),
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            WaitTimeSeconds=1,
        )
        for message in reply.get("Messages", []):
            keys = [r["s3"]["object"]["key"] for r in json.loads(message["Body"]).get("Records", [])]
            if "broken.pdf" in keys:
                return message
        return None

    message = wait_for(dead_lettered, timeout=30, what="the failed event in IngestDLQ")
    assert "broken.pdf" in message["MessageAttributes"]["ErrorMessage"]["StringValue"]
    assert _documents(stack)["broken.pdf"]["status"] == "FAILED"


def test_a_failed_ingest_event_is_replayed_into_the_function(
    running_stack: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """IngestDLQ is listed with the function it replays into; replay invokes the function with the event:
    after the document is fixed the replayed event indexes it, and an event that fails again is back in
    the DLQ (never lost)."""
    stack = running_stack
    s3, sqs = stack.client("s3"), stack.client("sqs")
    dlq_url = stack.queue_url("IngestDLQ")
    # Earlier tests may have left events here; this test replays only its own.
    s3.put_object(Bucket=stack.name("DocumentsBucket"), Key="replayed.md", Body=b"")
    wait_for(lambda: _status(stack, "replayed.md", "FAILED"), timeout=30, what="replayed.md FAILED")

    def events_for(key: str) -> int:
        """Looked at through the admin peek route, which hides nothing (a plain receive would)."""
        attributes = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
        depth = int(attributes["ApproximateNumberOfMessages"])
        views = _peek(stack, min(depth, 50)) if depth else []
        return sum(v["kind"] == "function_event" and key in v["error"]["message"] for v in views)

    wait_for(lambda: events_for("replayed.md") == 1, timeout=30, what="replayed.md's event in IngestDLQ")
    api = ["--api-url", stack.api_url, "--json"]
    capsys.readouterr()
    assert cli(["dlq", "list", *api]) == 0
    listed = {q["queue"]: q for q in json.loads(capsys.readouterr().out)}
    ingest_dlq = listed[stack.name("IngestDLQ")]
    assert ingest_dlq["source_type"] == "function" and ingest_dlq["source"] == stack.name("IngestFunction")

    # Still broken: the replayed event fails again and comes back (after the function's own retries).
    # A message that is no event at all is not sent to the function: it stays.
    sqs.send_message(QueueUrl=dlq_url, MessageBody="typed by hand")
    failed_at = _documents(stack)["replayed.md"]["updated_at"]
    capsys.readouterr()
    assert cli(["dlq", "replay", "IngestDLQ", "--max", "50", *api]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["source"] == stack.name("IngestFunction") and report["replayed"] >= 1
    assert [m.get("skipped") for m in report["messages"]].count("not a JSON event") == 1
    wait_for(
        lambda: _documents(stack)["replayed.md"]["updated_at"] > failed_at, timeout=30, what="a new attempt"
    )
    wait_for(lambda: events_for("replayed.md") == 1, timeout=30, what="the event back in IngestDLQ")

    # Fixed (the upload's own event indexes it); replaying the old event re-ingests it, idempotently.
    s3.put_object(Bucket=stack.name("DocumentsBucket"), Key="replayed.md", Body=b"# Fixed\n\nNow readable.")
    wait_for(lambda: _status(stack, "replayed.md", "INDEXED"), timeout=30, what="replayed.md INDEXED")
    indexed_at = _documents(stack)["replayed.md"]["updated_at"]
    capsys.readouterr()
    assert cli(["dlq", "replay", "IngestDLQ", "--max", "50", *api]) == 0
    wait_for(
        lambda: (_status(stack, "replayed.md", "INDEXED") or {}).get("updated_at", "") > indexed_at,
        timeout=30,
        what="the replayed event re-indexing replayed.md",
    )
    assert events_for("replayed.md") == 0
    leftovers = _peek(stack, 50)
    assert [v["body_preview"] for v in leftovers if v["kind"] == "unreadable"] == ["typed by hand"]


def _peek(stack: RunningStack, limit: int) -> list[dict[str, Any]]:
    url = f"{stack.api_url}/v1/admin/dlqs/{stack.name('IngestDLQ')}/messages"
    reply = httpx.get(url, params={"limit": limit}, timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()["messages"]
