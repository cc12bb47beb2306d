"""An opensearch-py client for OPENSEARCH_ENDPOINT, signed with SigV4 for ``es`` or ``aoss``.

Credentials come from the default boto3 chain (the Lambda role on AWS). ``none`` sends unsigned requests,
for a self-managed cluster behind another auth layer. opensearch-py's own retries stay on for connection
errors only; HTTP statuses are mapped to the core's errors in ``index._errors``.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlparse

from endurance.domain.errors import ConfigurationError

AUTH_MODES = ("es", "aoss", "none")
_AWS_HOST = re.compile(r"\.([a-z]{2}(?:-[a-z]+)+-\d)\.(es|aoss)\.amazonaws\.com$")


def resolve_auth(endpoint: str, auth: str) -> str:
    """``auto``: ``aoss`` for a Serverless endpoint (``*.<region>.aoss.amazonaws.com``), else ``es``."""
    if auth != "auto":
        return auth
    host = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}").hostname or ""
    return "aoss" if host.endswith(".aoss.amazonaws.com") else "es"


def region_of(endpoint: str) -> str:
    """The region in an AWS OpenSearch endpoint's host name, or "" for any other host."""
    host = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}").hostname or ""
    match = _AWS_HOST.search(host)
    return match.group(1) if match else ""


def build_client(
    endpoint: str,
    *,
    auth: str = "es",
    region: str = "",
    timeout_s: float = 10.0,
    credentials: Any = None,
) -> Any:
    from opensearchpy import AWSV4SignerAuth, OpenSearch, RequestsHttpConnection

    auth = resolve_auth(endpoint, auth)
    if auth not in AUTH_MODES:
        raise ConfigurationError(f"OPENSEARCH_AUTH={auth}: use one of {', '.join(AUTH_MODES)}")
    url = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
    if not url.hostname:
        raise ConfigurationError(f"OPENSEARCH_ENDPOINT={endpoint!r} is not a URL")
    https = url.scheme == "https"
    port = url.port or (443 if https else 80)
    http_auth = None
    if auth != "none":
        region = (
            region
            or region_of(endpoint)
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or ""
        )
        if not region:
            raise ConfigurationError(
                "OpenSearch SigV4 signing needs a region: set OPENSEARCH_REGION or AWS_REGION"
            )
        if credentials is None:
            import boto3

            credentials = boto3.Session().get_credentials()
        if credentials is None:
            raise ConfigurationError("no AWS credentials found to sign OpenSearch requests")
        http_auth = AWSV4SignerAuth(credentials, region, auth)
    return OpenSearch(
        hosts=[{"host": url.hostname, "port": port}],
        http_auth=http_auth,
        use_ssl=https,
        verify_certs=https,
        connection_class=RequestsHttpConnection,
        timeout=timeout_s,
        max_retries=2,
        retry_on_timeout=True,
        pool_maxsize=10,
    )
