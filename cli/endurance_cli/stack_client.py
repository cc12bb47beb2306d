"""Finding a running local stack: its API URL, its resources and an AWS endpoint for boto3."""

from __future__ import annotations

import argparse
import os
from typing import Any

import httpx

from endurance_cli.output import CliError

DEFAULT_API_URL = "http://127.0.0.1:3000"


def add_api_url_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-url",
        default=os.environ.get("ENDURANCE_API_URL", DEFAULT_API_URL),
        help="the running stack's HTTP API (default %(default)s)",
    )


def fetch_resources(api_url: str) -> dict[str, Any]:
    url = f"{api_url.rstrip('/')}/__local/resources"
    try:
        response = httpx.get(url, timeout=5)
    except httpx.HTTPError as error:
        raise CliError(
            f"no local stack answers at {api_url} ({error}); start it with `endurance local up`",
            code="stack_unreachable",
        ) from error
    if response.status_code != 200:
        raise CliError(f"{url} answered {response.status_code}", code="stack_error")
    return response.json()


def physical_name(resources: dict[str, Any], logical_id: str) -> str:
    try:
        return resources["resources"][logical_id]["physical_name"]
    except KeyError as error:
        raise CliError(f"the running stack has no resource {logical_id}", code="no_resource") from error


def boto3_client(service: str, endpoint_url: str) -> Any:
    import boto3  # lazy: most commands never touch AWS

    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
