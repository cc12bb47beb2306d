"""`endurance classify "question" --json` or `endurance classify --input questions.jsonl --json`: route
questions with the classifier the classify Lambda uses (settings from the environment; offline rules by
default), without a stack. Batch output: one ``{"id", "route", "confidence", "reason"}`` line per input."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from endurance_cli.answer_command import read_questions
from endurance_cli.output import CliError, print_json


def register(commands: argparse._SubParsersAction[Any]) -> None:
    parser = commands.add_parser("classify", help="route questions: direct, rag, human_review or blocked")
    parser.add_argument("question", nargs="?", help="one question (or use --input)")
    parser.add_argument("--input", type=Path, help="JSON lines with id and question")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(run=_classify)


def _classifier() -> Any:
    from endurance import providers
    from endurance.config import Settings
    from endurance.domain.errors import EnduranceError

    try:
        return providers.build_classifier(Settings.from_env())
    except EnduranceError as error:
        raise CliError(str(error), code="bad_settings") from error


def _classify(args: argparse.Namespace) -> int:
    if (args.question is None) == (args.input is None):
        raise CliError("give either a question or --input FILE", code="usage")
    if args.input is None:
        if not args.question.strip():
            raise CliError("the question is empty", code="empty_question")
        if len(args.question) > 4000:
            raise CliError("the question is longer than 4000 characters", code="bad_input")
        result = _classifier()(args.question)
        if args.json:
            print_json(result.model_dump(mode="json"))
        else:
            print(f"{result.route.value} ({result.confidence:.2f}): {result.reason}")
        return 0
    rows = read_questions(args.input)
    classify = _classifier()
    for row in rows:
        result = classify(row["question"])
        if args.json:
            print_json({"id": row["id"], **result.model_dump(mode="json")})
        else:
            print(f"{row['id']}\t{result.route.value}\t{result.confidence:.2f}\t{result.reason}")
    return 0
