"""`endurance evaluate`: the metrics engine on a batch of cases or on one answer, offline, in this process.

    endurance evaluate --input cases.jsonl --json        # one output line per input line, with its id
    endurance evaluate --question Q --context C1 --context C2 --answer A [--json]

Each input line is {"id", "question", "contexts": [str], "answer"}. Bad input (unreadable or non-UTF-8
file, invalid JSON, a missing or mistyped field, an empty answer, no contexts) stops before any output with
a one-line error naming the line, and exit code 2. Over-long answers and contexts are cut to the engine's
caps and the result's reasons say so.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from endurance_cli.output import CliError, print_json

OUTPUT_FIELDS = (
    "faithfulness",
    "hallucination",
    "unsupported_spans",
    "answer_relevance",
    "context_relevance",
    "context_precision",
    "refusal",
    "refusal_correct",
    "pii",
    "toxicity",
    "toxic",
    "verdict",
    "reasons",
)
MAX_CASES = 100_000


def register(commands: argparse._SubParsersAction[Any]) -> None:
    command = commands.add_parser(
        "evaluate",
        help="score answers with the Endurance metrics (faithfulness, relevance, refusal, PII, toxicity)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("--input", help="JSONL file of cases ('-' for standard input)")
    command.add_argument("--question", help="the question (single-answer mode)")
    command.add_argument("--context", action="append", default=[], help="a context passage (repeatable)")
    command.add_argument("--answer", help="the answer to evaluate (single-answer mode)")
    command.add_argument("--json", action="store_true", help="print JSON (one line per case)")
    command.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    single = args.question is not None or args.answer is not None or args.context
    if args.input and single:
        raise CliError(
            "use either --input or --question/--context/--answer, not both", code="invalid_arguments"
        )
    if args.input:
        cases = _read_cases(args.input)
        for case in cases:
            result = _evaluate(case["question"], case["contexts"], case["answer"])
            if args.json:
                print_json({"id": case["id"], **result})
            else:
                print(_summary(case["id"], result))
        return 0
    if not single:
        raise CliError("give --input FILE, or --question, --context and --answer", code="invalid_arguments")
    case = _validate({"question": args.question, "contexts": args.context, "answer": args.answer}, None)
    result = _evaluate(case["question"], case["contexts"], case["answer"])
    if args.json:
        print_json(result)
    else:
        print(_summary(None, result))
    return 0


def _evaluate(question: str, contexts: list[str], answer: str) -> dict[str, Any]:
    from endurance.pipeline.evaluate import evaluate

    dumped = evaluate(question, contexts, answer).model_dump(mode="json")
    return {name: dumped.get(name) for name in OUTPUT_FIELDS}


def _read_cases(source: str) -> list[dict[str, Any]]:
    try:
        raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {source}: {error.strerror or error}", code="unreadable_input") from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CliError(f"{source} is not UTF-8 text (byte {error.start})", code="invalid_encoding") from error
    cases: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise CliError(f"line {number}: not valid JSON ({error.msg})", code="invalid_json") from error
        case = _validate(value, number)
        if case["id"] in seen:
            raise CliError(f"line {number}: duplicate id {case['id']!r}", code="invalid_case")
        seen.add(case["id"])
        cases.append(case)
        if len(cases) > MAX_CASES:
            raise CliError(f"more than {MAX_CASES} cases: split the file", code="too_many_cases")
    if not cases:
        raise CliError(f"{source} holds no cases", code="invalid_case")
    return cases


def _validate(value: Any, line: int | None) -> dict[str, Any]:
    where = f"line {line}: " if line is not None else ""
    if not isinstance(value, dict):
        raise CliError(f"{where}a case must be a JSON object", code="invalid_case")
    if line is not None:
        case_id = value.get("id")
        if not isinstance(case_id, (str, int)) or isinstance(case_id, bool) or str(case_id) == "":
            raise CliError(f"{where}'id' must be a non-empty string or number", code="invalid_case")
    question = value.get("question")
    if not isinstance(question, str) or not question.strip():
        raise CliError(f"{where}'question' must be a non-empty string", code="invalid_case")
    contexts = value.get("contexts")
    if not isinstance(contexts, list) or not all(isinstance(c, str) for c in contexts):
        raise CliError(f"{where}'contexts' must be a list of strings", code="invalid_case")
    if not [c for c in contexts if c.strip()]:
        raise CliError(f"{where}no contexts: give at least one non-empty context", code="invalid_case")
    answer = value.get("answer")
    if not isinstance(answer, str):
        raise CliError(f"{where}'answer' must be a string", code="invalid_case")
    if not answer.strip():
        raise CliError(f"{where}the answer is empty", code="invalid_case")
    return {"id": value.get("id"), "question": question, "contexts": [c for c in contexts if c.strip()],
            "answer": answer}


def _summary(case_id: Any, result: dict[str, Any]) -> str:
    head = f"{case_id}: " if case_id is not None else ""
    faithfulness = result["faithfulness"]
    shown = "n/a" if faithfulness is None else f"{faithfulness:.2f}"
    lines = [
        f"{head}verdict {result['verdict']}  faithfulness {shown}  hallucination {result['hallucination']}  "
        f"answer relevance {result['answer_relevance']:.2f}  refusal {result['refusal']}  "
        f"toxicity {result['toxicity']:.2f}  pii {len(result['pii'])}"
    ]
    lines.extend(f"  - {reason}" for reason in result["reasons"])
    return "\n".join(lines)
