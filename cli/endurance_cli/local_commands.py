"""`endurance local up | resources | invoke`: the docker-free local runtime."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from endurance_cli.config_files import parse_parameter_overrides, samconfig_overrides
from endurance_cli.output import CliError, print_json
from endurance_cli.stack_client import add_api_url_option, fetch_resources


def register(commands: argparse._SubParsersAction[Any]) -> None:
    local = commands.add_parser("local", help="run the SAM application on this machine (no Docker, no AWS)")
    sub = local.add_subparsers(dest="local_command", required=True, metavar="ACTION")

    up = sub.add_parser("up", help="start the local stack in the foreground until Ctrl-C")
    _add_template_options(up)
    up.add_argument("--api-port", type=int, default=3000)
    up.add_argument("--aws-port", type=int, default=4566)
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--static-dir", type=Path, help="folder served at / (default: dashboard/dist if built)")
    up.add_argument("--verbose", action="store_true", help="echo function logs to the console")
    up.set_defaults(run=_up)

    resources = sub.add_parser("resources", help="list the running stack's resources")
    add_api_url_option(resources)
    resources.add_argument("--json", action="store_true")
    resources.set_defaults(run=_resources)

    invoke = sub.add_parser("invoke", help="invoke one function once (like `sam local invoke`)")
    _add_template_options(invoke)
    invoke.add_argument("function", help="logical id of the function, e.g. ClassifyFunction")
    invoke.add_argument("--event", "-e", type=Path, help="JSON event file (default: {})")
    invoke.add_argument(
        "--aws-endpoint", default="http://127.0.0.1:4566", help="AWS endpoint the function uses"
    )
    invoke.add_argument("--api-port", type=int, default=3000)
    invoke.set_defaults(run=_invoke)


def _add_template_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--template", "-t", type=Path, default=Path("template.yaml"))
    parser.add_argument("--state-dir", type=Path, default=Path(".endurance"))
    parser.add_argument(
        "--parameter-overrides",
        default="",
        help="Key=Value pairs; added to samconfig.toml's [default.local_start_api.parameters]",
    )


def _overrides(args: argparse.Namespace) -> dict[str, str]:
    if not args.template.exists():
        raise CliError(f"template not found: {args.template}", code="no_template")
    return samconfig_overrides(args.template) | parse_parameter_overrides(args.parameter_overrides)


def _up(args: argparse.Namespace) -> int:
    from endurance_local.model import TemplateError
    from endurance_local.runtime import LocalStackConfig, run_foreground

    static_dir = args.static_dir
    if static_dir is None:
        built = args.template.parent / "dashboard" / "dist"
        static_dir = built if (built / "index.html").exists() else None
    config = LocalStackConfig(
        template=args.template,
        api_port=args.api_port,
        aws_port=args.aws_port,
        host=args.host,
        state_dir=args.state_dir,
        parameter_overrides=_overrides(args),
        static_dir=static_dir,
        echo_function_logs=args.verbose,
    )
    try:
        return run_foreground(config)
    except TemplateError as error:
        raise CliError(str(error), code="template_error") from error
    except OSError as error:
        raise CliError(f"cannot start the local stack: {error}", code="start_failed") from error


def _resources(args: argparse.Namespace) -> int:
    data = fetch_resources(args.api_url)
    if args.json:
        print_json(data)
        return 0
    for logical_id, resource in sorted(data.get("resources", {}).items()):
        where = resource.get("url") or resource.get("arn") or resource.get("physical_name") or ""
        flag = "" if resource.get("supported", True) else "  (not emulated)"
        print(f"{logical_id:32} {resource.get('type', ''):40} {where}{flag}")
    for warning in data.get("warnings", []):
        print(f"warning: {warning}")
    return 0


def _invoke(args: argparse.Namespace) -> int:
    from endurance_local.lambda_host import LambdaHost
    from endurance_local.model import TemplateError
    from endurance_local.runtime import local_aws_environment
    from endurance_local.template import build_deployment

    try:
        payload = args.event.read_bytes() if args.event else b"{}"
        json.loads(payload)
    except (OSError, ValueError) as error:
        raise CliError(f"cannot read the event {args.event}: {error}", code="bad_event") from error
    try:
        deployment = build_deployment(
            args.template.resolve(),
            aws_endpoint=args.aws_endpoint,
            api_port=args.api_port,
            parameter_overrides=_overrides(args),
            extra_env={"LOCAL_RUNTIME_STATE_DIR": str(args.state_dir.resolve())},
        )
    except TemplateError as error:
        raise CliError(str(error), code="template_error") from error
    spec = deployment.function_by_any_name(args.function)
    if spec is None:
        known = ", ".join(sorted(deployment.functions))
        raise CliError(
            f"no function {args.function!r} in the template (functions: {known})", code="no_function"
        )
    host = LambdaHost(
        {spec.logical_id: spec},
        base_env=local_aws_environment(args.aws_endpoint),
        on_log=lambda _fn, line: print(line, file=sys.stderr),
    )
    try:
        result = host.invoke(spec.logical_id, payload)
    finally:
        host.close()
    print(result.payload.decode("utf-8", errors="replace"))
    return 0 if result.ok else 1
