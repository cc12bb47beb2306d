"""`endurance local up` as a user runs it: a foreground process that prints `ready`, serves, stops cleanly."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]


def start_local_up(state_dir: Path, api_port: int, aws_port: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "endurance_cli.main",
            "local",
            "up",
            "--template",
            str(ROOT / "template.yaml"),
            "--api-port",
            str(api_port),
            "--aws-port",
            str(aws_port),
            "--state-dir",
            str(state_dir),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise AssertionError(f"local up exited with {process.returncode} before it was ready")
        if "ready" in line:
            return process, line
    process.kill()
    raise AssertionError("local up did not print a ready line within 60 s")


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=20)
    assert process.returncode == 0, out
    return out


def port_is_free(port: int) -> bool:
    """Could a server listen here now? (SO_REUSEADDR, as servers do: TIME_WAIT leftovers don't count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_up_prints_ready_lists_resources_and_restarts_on_the_same_ports(tmp_path: Path) -> None:
    api_port, aws_port = free_port(), free_port()
    process, ready = start_local_up(tmp_path, api_port, aws_port)
    try:
        assert f"http://127.0.0.1:{api_port}" in ready and f"http://127.0.0.1:{aws_port}" in ready
        assert f"ws://127.0.0.1:{api_port}/" in ready
        resources = httpx.get(f"http://127.0.0.1:{api_port}/__local/resources", timeout=5).json()["resources"]
        assert resources["IntakeQueue"]["type"] == "AWS::SQS::Queue"
        assert "IntakeQueue" in resources["IntakeQueue"]["physical_name"]
        assert resources["WebSocketApi"]["url"].startswith("ws://")
        listed = subprocess.run(
            [
                sys.executable,
                "-m",
                "endurance_cli.main",
                "local",
                "resources",
                "--json",
                "--api-url",
                f"http://127.0.0.1:{api_port}",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert json.loads(listed.stdout)["resources"].keys() == resources.keys()
    finally:
        out = stop(process)
    assert "stopped" in out
    assert port_is_free(api_port) and port_is_free(aws_port)

    process, _ = start_local_up(tmp_path, api_port, aws_port)
    try:
        health = httpx.get(f"http://127.0.0.1:{api_port}/health", timeout=5)
        assert health.status_code == 200
    finally:
        stop(process)


def test_bad_template_is_a_clear_error_naming_the_resource(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  BrokenFunction:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      CodeUri: nowhere/\n"
        "      Handler: app.handler\n"
        "      Runtime: python3.12\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "endurance_cli.main",
            "local",
            "up",
            "--template",
            str(template),
            "--api-port",
            str(free_port()),
            "--aws-port",
            str(free_port()),
            "--state-dir",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "BrokenFunction" in result.stderr
    assert "Traceback" not in result.stderr
