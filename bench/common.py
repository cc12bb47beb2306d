"""Small helpers for the benchmarks: medians and percentiles, free ports, a results header."""

from __future__ import annotations

import platform
import socket
import statistics
from datetime import UTC, datetime


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.2f} ms, p95 {percentile(values, 95):.2f} ms, "
        f"min {min(values):.2f} ms (n={len(values)})"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def header(title: str) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"## {title}\n\n{now}, {platform.python_version()}, {platform.machine()}, 2 shared cores (noisy)\n"
