"""The context object a Lambda handler receives, as the Python runtime builds it.

It has the attributes AWS documents (and that aws-lambda-powertools reads for `inject_lambda_context`),
and the remaining time counts down from the function's timeout, so handlers that budget their work
on `get_remaining_time_in_millis()` behave locally as they do on AWS.
"""

from __future__ import annotations

import time
from typing import Any


class LambdaContext:
    """One invocation's context; `deadline_ms` is wall-clock epoch milliseconds, as the runtime API has it."""

    def __init__(
        self,
        *,
        function_name: str,
        function_version: str,
        invoked_function_arn: str,
        memory_limit_in_mb: int,
        aws_request_id: str,
        log_group_name: str,
        log_stream_name: str,
        deadline_ms: int,
        tenant_id: str | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = int(memory_limit_in_mb)
        self.aws_request_id = aws_request_id
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.tenant_id = tenant_id
        # Only set for mobile SDK callers; never the case for the events this runtime produces.
        self.identity: Any = None
        self.client_context: Any = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext(function_name={self.function_name!r}, aws_request_id={self.aws_request_id!r}, "
            f"remaining_ms={self.get_remaining_time_in_millis()})"
        )
