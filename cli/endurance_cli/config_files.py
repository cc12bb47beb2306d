"""Reading the SAM project files the CLI shares with `sam`: samconfig.toml and parameter overrides."""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path

from endurance_cli.output import CliError


def parse_parameter_overrides(text: str) -> dict[str, str]:
    """`Key=Value Key2="a b"` (SAM's format) -> {"Key": "Value", "Key2": "a b"}."""
    overrides: dict[str, str] = {}
    for item in shlex.split(text):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"parameter override {item!r} is not Key=Value", code="bad_parameter")
        overrides[key] = value
    return overrides


def samconfig_overrides(template: Path, config_env: str = "default") -> dict[str, str]:
    """parameter_overrides of [<env>.local_start_api.parameters] in samconfig.toml beside the template."""
    path = template.parent / "samconfig.toml"
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise CliError(f"{path}: {error}", code="bad_samconfig") from error
    section = data.get(config_env, {}).get("local_start_api", {}).get("parameters", {})
    raw = section.get("parameter_overrides", "")
    if isinstance(raw, list):
        raw = " ".join(raw)
    return parse_parameter_overrides(raw) if raw else {}
