"""Job events to the SNS topic, with the `type` message attribute subscription filters select on."""

from __future__ import annotations

from typing import Any

from endurance.adapters.aws.clients import aws_errors, client
from endurance.domain.models import JobEvent


class SnsEventPublisher:
    def __init__(self, topic_arn: str, sns: Any | None = None) -> None:
        if not topic_arn:
            raise ValueError("a topic ARN is required")
        self.topic_arn = topic_arn
        self._client = sns

    @property
    def sns(self) -> Any:
        if self._client is None:
            self._client = client("sns")
        return self._client

    def publish(self, event: JobEvent) -> None:
        with aws_errors("sns.Publish"):
            self.sns.publish(
                TopicArn=self.topic_arn,
                Message=event.model_dump_json(),
                MessageAttributes={"type": {"DataType": "String", "StringValue": event.type}},
            )
