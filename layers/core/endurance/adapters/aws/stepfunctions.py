"""Starts chat executions; a name that is already used means the job was already started."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from endurance.adapters.aws.clients import aws_errors, client


class StepFunctionsStarter:
    def __init__(self, state_machine_arn: str, sfn: Any | None = None) -> None:
        if not state_machine_arn:
            raise ValueError("a state machine ARN is required")
        self.state_machine_arn = state_machine_arn
        self._client = sfn

    @property
    def sfn(self) -> Any:
        if self._client is None:
            self._client = client("stepfunctions")
        return self._client

    def start(self, name: str, payload: Mapping[str, Any]) -> bool:
        # Canonical JSON: a redelivered start with the same name and input is then the same request.
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        with aws_errors("states.StartExecution"):
            try:
                self.sfn.start_execution(stateMachineArn=self.state_machine_arn, name=name, input=body)
            except self.sfn.exceptions.ExecutionAlreadyExists:
                return False
        return True
