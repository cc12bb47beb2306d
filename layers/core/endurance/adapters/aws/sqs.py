"""The intake queue (jobs for the dispatcher) on SQS."""

from __future__ import annotations

from typing import Any

from endurance.adapters.aws.clients import aws_errors, client
from endurance.domain.models import JobEnvelope


class SqsJobQueue:
    def __init__(self, queue_url: str, sqs: Any | None = None) -> None:
        if not queue_url:
            raise ValueError("a queue URL is required")
        self.queue_url = queue_url
        self._client = sqs

    @property
    def sqs(self) -> Any:
        if self._client is None:
            self._client = client("sqs")
        return self._client

    def send(self, envelope: JobEnvelope) -> str:
        with aws_errors("sqs.SendMessage"):
            response = self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=envelope.model_dump_json())
        return str(response["MessageId"])
