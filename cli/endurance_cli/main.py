"""`endurance`: the command line of the project (local stack, ingestion, questions, operations)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from endurance_cli import (
    answer_command,
    ask_command,
    classify_command,
    dlq_commands,
    evaluate_command,
    ingest_command,
    local_commands,
    search_command,
)
from endurance_cli.output import CliError, print_error


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="endurance", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    local_commands.register(commands)
    ingest_command.register(commands)
    search_command.register(commands)
    ask_command.register(commands)
    classify_command.register(commands)
    answer_command.register(commands)
    dlq_commands.register(commands)
    evaluate_command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except CliError as error:
        print_error(error, as_json=bool(getattr(args, "json", False)))
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
