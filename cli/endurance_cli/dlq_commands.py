"""`endurance dlq list | replay`: look into dead-letter queues and send their messages back to the source."""

from __future__ import annotations

import argparse
from typing import Any

from endurance_cli.output import CliError, print_json
from endurance_cli.stack_client import add_api_url_option, boto3_client, fetch_resources, physical_name


def register(commands: argparse._SubParsersAction[Any]) -> None:
    dlq = commands.add_parser("dlq", help="inspect and replay dead-letter queues of the running stack")
    sub = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")

    listing = sub.add_parser("list", help="every DLQ with its source queue and depth")
    _common(listing)
    listing.set_defaults(run=_list)

    replay = sub.add_parser("replay", help="move messages from a DLQ back to its source")
    replay.add_argument("queue", help="DLQ name, URL, or logical id (e.g. FailedJobsQueue)")
    replay.add_argument("--max", type=int, default=10, dest="max_messages", help="at most this many messages")
    replay.add_argument("--dry-run", action="store_true", help="show what would be replayed, move nothing")
    replay.add_argument("--job-id", help="replay only this job's messages")
    replay.add_argument("--rate", type=float, help="at most this many messages per second")
    _common(replay)
    replay.set_defaults(run=_replay)


def _common(parser: argparse.ArgumentParser) -> None:
    add_api_url_option(parser)
    parser.add_argument("--endpoint-url", help="AWS endpoint (default: the running stack's)")
    parser.add_argument("--json", action="store_true")


def _clients(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    resources = fetch_resources(args.api_url)
    endpoint = args.endpoint_url or resources.get("aws_endpoint")
    if not endpoint:
        raise CliError(
            "the stack did not say where its AWS endpoint is; pass --endpoint-url", code="no_endpoint"
        )
    return boto3_client("sqs", endpoint), resources


def _list(args: argparse.Namespace) -> int:
    from endurance.services.dlq import list_dlqs

    sqs, _ = _clients(args)
    queues = list_dlqs(sqs)
    if args.json:
        print_json(queues)
        return 0
    for queue in queues:
        print(f"{queue['queue']:48} <- {queue['source']:40} {queue['messages']} message(s)")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from endurance.adapters.aws.dynamodb import DynamoJobRepository
    from endurance.domain.errors import NotFoundError
    from endurance.services.dlq import replay

    if args.max_messages < 1:
        raise CliError("--max must be at least 1", code="bad_max")
    if args.rate is not None and args.rate <= 0:
        raise CliError("--rate must be above 0", code="bad_rate")
    sqs, resources = _clients(args)
    queue = args.queue
    if queue in resources.get("resources", {}):
        queue = physical_name(resources, queue)
    endpoint = args.endpoint_url or resources["aws_endpoint"]
    jobs = DynamoJobRepository(physical_name(resources, "JobsTable"), boto3_client("dynamodb", endpoint))
    try:
        report = replay(
            sqs,
            queue,
            max_messages=args.max_messages,
            dry_run=args.dry_run,
            jobs=jobs,
            job_id=args.job_id,
            per_second=args.rate,
            lambda_client=boto3_client("lambda", endpoint),
        )
    except NotFoundError as error:
        raise CliError(str(error), code="not_found") from error
    if args.json:
        print_json(report)
        return 0
    verb = "would replay" if report["dry_run"] else "replayed"
    count = len(report["messages"]) if report["dry_run"] else report["replayed"]
    print(f"{verb} {count} message(s) from {report['queue']} to {report['source']}")
    for message in report["messages"]:
        skipped = f"  skipped: {message['skipped']}" if "skipped" in message else ""
        print(f"  {message['message_id']}  job={message.get('job_id', '-')}{skipped}")
    return 0
