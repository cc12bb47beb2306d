"""The real SAM CLI accepts the template: `sam validate --lint` is clean and `sam build` builds every
function and the layer for python3.12 on arm64 (what `sam deploy` would upload).

`sam build` downloads the layer's wheels from PyPI (aarch64 wheels cannot come from this machine's
site-packages), so it is the one test here that needs the package registry.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cfnlint.decode.cfn_yaml import load as load_cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
SAM = Path(sys.executable).parent / "sam"
PYTHON_VERSION = "3.12.1"


def python312_dir() -> Path:
    """The folder holding a python3.12 executable: sam build runs pip with the function's runtime."""
    candidates: list[Path] = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=True).stdout.strip()
        candidates.append(Path(root) / "versions" / PYTHON_VERSION / "bin")
    candidates.append(Path.home() / ".pyenv" / "versions" / PYTHON_VERSION / "bin")
    on_path = shutil.which("python3.12")
    if on_path:
        candidates.append(Path(on_path).parent)
    for candidate in candidates:
        if (candidate / "python3.12").is_file():
            return candidate
    raise AssertionError(
        f"no python3.12 found (looked in {[str(c) for c in candidates]}); sam build needs one"
    )


def sam_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PATH=f"{python312_dir()}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYENV_VERSION=PYTHON_VERSION,
        SAM_CLI_TELEMETRY="0",
        # Validation and build need a region for ARNs, never credentials or an AWS call.
        AWS_DEFAULT_REGION=env.get("AWS_DEFAULT_REGION", "us-east-1"),
    )
    return env


def run_sam(*args: str, timeout: float) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [str(SAM), *args],
        cwd=ROOT,
        env=sam_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return result, time.monotonic() - started


def test_sam_validate_lint_is_clean() -> None:
    result, _ = run_sam("validate", "--lint", "--template-file", "template.yaml", timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "is a valid SAM Template" in output
    # cfn-lint findings (errors, warnings, informational) are printed with their rule ids.
    assert not re.search(r"\b[EWI]\d{4}\b", output), output


@pytest.mark.slow
def test_sam_build_builds_every_function_and_the_layer_for_arm64(tmp_path: Path) -> None:
    build_dir = tmp_path / "build"
    result, seconds = run_sam(
        "build",
        "--template-file",
        "template.yaml",
        "--build-dir",
        str(build_dir),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--parallel",
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    print(f"sam build took {seconds:.1f} s")

    functions = {
        logical_id
        for logical_id, resource in load_cfn_yaml(str(ROOT / "template.yaml"))["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert len(functions) == 13
    for logical_id in functions:
        assert (build_dir / logical_id / "app.py").is_file(), f"{logical_id} was not built"

    layer = build_dir / "CoreLayer" / "python"
    assert (layer / "endurance" / "__init__.py").is_file(), "the core library is missing from the layer"
    assert (layer / "aws_lambda_powertools").is_dir()
    assert (layer / "pydantic").is_dir()
    native = list((layer / "pydantic_core").glob("_pydantic_core*.so"))
    assert native and all("aarch64" in path.name for path in native), f"not an arm64 build: {native}"
    assert not (layer / "boto3").exists(), "boto3 comes with the Lambda runtime; keep the layer small"

    built_template = (build_dir / "template.yaml").read_text(encoding="utf-8")
    assert "CodeUri: ApiFunction" in built_template
    assert "ContentUri: CoreLayer" in built_template
