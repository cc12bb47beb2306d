"""The AWS endpoint: boto3 against moto behind the front, with Lambda Invoke and S3 events answered by us."""

from __future__ import annotations

import base64
import http.client
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from endurance_local.aws_endpoint import AwsEndpoint
from endurance_local.lambda_host import LambdaHost
from endurance_local.model import ACCOUNT_ID, REGION, FunctionSpec

FIXTURES = Path(__file__).parent / "fixtures" / "functions_host"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": REGION}
S3Event = tuple[str, str, str, "int | None", "str | None"]


def function(logical_id: str, code: str, handler: str) -> FunctionSpec:
    name = f"ep-{logical_id}"
    return FunctionSpec(
        logical_id=logical_id,
        name=name,
        arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}",
        code_dir=FIXTURES / code,
        handler=handler,
        runtime="python3.11",
        timeout=5.0,
        memory_size=128,
        environment={},
    )


class Recorder:
    def __init__(self) -> None:
        self.events: list[S3Event] = []
        self._lock = threading.Lock()

    def __call__(self, name: str, bucket: str, key: str, size: int | None, etag: str | None) -> None:
        with self._lock:
            self.events.append((name, bucket, key, size, etag))

    def take(self) -> list[S3Event]:
        with self._lock:
            events, self.events = self.events, []
        return events


@pytest.fixture(scope="module")
def s3_events() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def endpoint(s3_events: Recorder) -> Iterator[AwsEndpoint]:
    endpoint = AwsEndpoint(port=0, on_s3_event=s3_events)
    endpoint.start()
    functions = {
        "Add": function("Add", "steps", "app.add"),
        "Fails": function("Fails", "steps", "app.always_fails"),
        "Counting": function("Counting", "echo", "app.counting_handler"),
        "Noisy": function("Noisy", "echo", "app.noisy_handler"),
    }
    env = {
        "AWS_ENDPOINT_URL": endpoint.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    host = LambdaHost(functions, base_env=env)
    endpoint.set_invoker(host)
    yield endpoint
    host.close()
    endpoint.stop()


def client(endpoint: AwsEndpoint, service: str, **kwargs: Any) -> Any:
    return boto3.client(service, endpoint_url=endpoint.url, **CREDENTIALS, **kwargs)  # type: ignore[call-overload]


def test_invoke_request_response(endpoint: AwsEndpoint) -> None:
    response = client(endpoint, "lambda").invoke(FunctionName="ep-Add", Payload=b'{"a": 2, "b": 3}')
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert json.loads(response["Payload"].read()) == {"a": 2, "b": 3, "sum": 5}


def test_invoke_by_arn_and_logical_id(endpoint: AwsEndpoint) -> None:
    lam = client(endpoint, "lambda")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:ep-Add"
    for name in (arn, f"{arn}:$LATEST", "Add"):
        response = lam.invoke(FunctionName=name, Payload=b'{"a": 1, "b": 1}')
        assert json.loads(response["Payload"].read())["sum"] == 2, name


def test_invoke_error_is_function_error_unhandled(endpoint: AwsEndpoint) -> None:
    response = client(endpoint, "lambda").invoke(FunctionName="ep-Fails", Payload=b"{}")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "PermanentError"
    assert error["errorMessage"] == "this input can never succeed"


def test_invoke_with_log_tail(endpoint: AwsEndpoint) -> None:
    response = client(endpoint, "lambda").invoke(FunctionName="ep-Noisy", Payload=b"{}", LogType="Tail")
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "printed to stdout" in tail and "REPORT RequestId" in tail


def test_event_invoke_is_202_and_runs(endpoint: AwsEndpoint, tmp_path: Path) -> None:
    counter = tmp_path / "calls"
    response = client(endpoint, "lambda").invoke(
        FunctionName="ep-Counting",
        InvocationType="Event",
        Payload=json.dumps({"counter_file": str(counter)}).encode(),
    )
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    deadline = time.monotonic() + 10
    while not counter.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert counter.read_text() == "call\n"


def test_dry_run_is_204(endpoint: AwsEndpoint) -> None:
    response = client(endpoint, "lambda").invoke(FunctionName="ep-Add", InvocationType="DryRun")
    assert response["StatusCode"] == 204


def test_unknown_function_is_resource_not_found(endpoint: AwsEndpoint) -> None:
    lam = client(endpoint, "lambda")
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as caught:
        lam.invoke(FunctionName="ep-Nope", Payload=b"{}")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "Function not found: ep-Nope" in str(caught.value)


def test_payload_that_is_not_json_is_invalid_request_content(endpoint: AwsEndpoint) -> None:
    lam = client(endpoint, "lambda")
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName="ep-Add", Payload=b"{oops")


def test_s3_writes_and_deletes_raise_events(endpoint: AwsEndpoint, s3_events: Recorder) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="documents")
    s3_events.take()

    s3.put_object(Bucket="documents", Key="guides/a b.md", Body=b"hello")
    s3.copy_object(
        Bucket="documents", Key="copy.md", CopySource={"Bucket": "documents", "Key": "guides/a b.md"}
    )
    five_mb = 5 * 1024 * 1024
    multipart = TransferConfig(multipart_threshold=five_mb, multipart_chunksize=five_mb)
    s3.upload_fileobj(io.BytesIO(b"x" * (6 * 1024 * 1024)), "documents", "big.bin", Config=multipart)
    s3.delete_object(Bucket="documents", Key="copy.md")
    both = [{"Key": "guides/a b.md"}, {"Key": "big.bin"}]
    s3.delete_objects(Bucket="documents", Delete={"Objects": both})

    events = s3_events.take()
    hello_etag = "5d41402abc4b2a76b9719d911017c592"
    assert events[:3] == [
        ("ObjectCreated:Put", "documents", "guides/a b.md", 5, hello_etag),
        ("ObjectCreated:Copy", "documents", "copy.md", 5, hello_etag),
        ("ObjectCreated:CompleteMultipartUpload", "documents", "big.bin", 6 * 1024 * 1024, events[2][4]),
    ]
    assert str(events[2][4]).endswith("-2")
    assert events[3:] == [
        ("ObjectRemoved:Delete", "documents", "copy.md", None, None),
        ("ObjectRemoved:Delete", "documents", "guides/a b.md", None, None),
        ("ObjectRemoved:Delete", "documents", "big.bin", None, None),
    ]


def test_s3_reads_and_failed_writes_raise_no_event(endpoint: AwsEndpoint, s3_events: Recorder) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="quiet")
    s3.put_object(Bucket="quiet", Key="k", Body=b"v")
    s3_events.take()

    assert s3.get_object(Bucket="quiet", Key="k")["Body"].read() == b"v"
    s3.put_object_tagging(Bucket="quiet", Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    s3.list_objects_v2(Bucket="quiet")
    with pytest.raises(s3.exceptions.NoSuchBucket):
        s3.put_object(Bucket="no-such-bucket", Key="k", Body=b"v")
    assert s3_events.take() == []


def test_s3_virtual_host_style_write_raises_event(endpoint: AwsEndpoint, s3_events: Recorder) -> None:
    client(endpoint, "s3").create_bucket(Bucket="vhost")
    s3_events.take()
    # No resolver knows vhost.s3.amazonaws.com here: send a SigV4-shaped request to the endpoint by hand.
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=10)
    auth = (
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
    )
    headers = {
        "Host": "vhost.s3.amazonaws.com",
        "Authorization": auth,
        "x-amz-date": "20260101T000000Z",
        "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    }
    connection.request("PUT", "/notes/today.txt", body=b"virtual", headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()

    assert response.status == 200
    assert (
        client(endpoint, "s3").get_object(Bucket="vhost", Key="notes/today.txt")["Body"].read() == b"virtual"
    )
    events = s3_events.take()
    assert [(name, bucket, key, size) for name, bucket, key, size, _ in events] == [
        ("ObjectCreated:Put", "vhost", "notes/today.txt", 7)
    ]


def test_other_services_pass_through_to_moto(endpoint: AwsEndpoint) -> None:
    sqs = client(endpoint, "sqs")
    url = sqs.create_queue(QueueName="passthrough")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hi")
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]
    assert [message["Body"] for message in messages] == ["hi"]

    dynamodb = client(endpoint, "dynamodb")
    dynamodb.create_table(
        TableName="things",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="things", Item={"id": {"S": "1"}, "v": {"N": "7"}})
    assert dynamodb.get_item(TableName="things", Key={"id": {"S": "1"}})["Item"]["v"] == {"N": "7"}


def test_lambda_control_plane_still_goes_to_moto(endpoint: AwsEndpoint) -> None:
    lam = client(endpoint, "lambda", config=Config(retries={"max_attempts": 1}))
    assert lam.list_functions()["Functions"] == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_up_down_up_on_the_same_port_gives_a_clean_slate(endpoint: AwsEndpoint) -> None:
    port = free_port()
    first = AwsEndpoint(port=port)
    first.start()
    try:
        client(first, "sqs").create_queue(QueueName="left-over")
        assert first.url == f"http://127.0.0.1:{port}"
    finally:
        first.stop()
    first.stop()  # idempotent

    second = AwsEndpoint(port=port)
    second.start()
    try:
        assert client(second, "sqs").list_queues().get("QueueUrls", []) == []
    finally:
        second.stop()
        # The module's endpoint shares moto's process-wide state and MOTO_PORT: point them back at it.
        endpoint.stop()
        endpoint.start()
