"""`endurance local invoke`: one function, once, like `sam local invoke -e`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Environment:
      Variables:
        GREETING: !Sub "hello from ${AWS::Region}"
Resources:
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Handler: app.handler
  BoomFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Handler: app.boom
"""
CODE = """\
import os


class Kaboom(Exception):
    pass


def handler(event, context):
    return {"event": event, "greeting": os.environ["GREETING"], "function": context.function_name}


def boom(event, context):
    raise Kaboom("it went off")
"""


def invoke(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "endurance_cli.main",
            "local",
            "invoke",
            "--template",
            str(tmp_path / "template.yaml"),
            "--state-dir",
            str(tmp_path / "state"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def make_app(tmp_path: Path) -> None:
    (tmp_path / "echo").mkdir()
    (tmp_path / "echo" / "app.py").write_text(CODE)
    (tmp_path / "template.yaml").write_text(TEMPLATE)


def test_invoke_runs_the_handler_with_the_event_and_the_template_environment(tmp_path: Path) -> None:
    make_app(tmp_path)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"question": "hi"}))
    result = invoke(tmp_path, "EchoFunction", "--event", str(event))
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body == {
        "event": {"question": "hi"},
        "greeting": "hello from us-east-1",
        "function": "local-EchoFunction",
    }


def test_invoke_reports_a_handler_error_as_lambda_does(tmp_path: Path) -> None:
    make_app(tmp_path)
    result = invoke(tmp_path, "BoomFunction")
    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert error["errorType"] == "Kaboom"
    assert error["errorMessage"] == "it went off"


def test_invoke_names_unknown_functions_and_bad_events(tmp_path: Path) -> None:
    make_app(tmp_path)
    unknown = invoke(tmp_path, "NopeFunction")
    assert unknown.returncode == 2
    assert "NopeFunction" in unknown.stderr and "EchoFunction" in unknown.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    broken = invoke(tmp_path, "EchoFunction", "--event", str(bad))
    assert broken.returncode == 2
    assert "bad.json" in broken.stderr
    assert "Traceback" not in broken.stderr + unknown.stderr
