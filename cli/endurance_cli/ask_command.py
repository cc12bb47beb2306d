"""`endurance ask "question"`: submit through the running stack's API and wait for the job's result."""

from __future__ import annotations

import argparse
import time
from typing import Any

import httpx

from endurance_cli.output import CliError, print_json
from endurance_cli.stack_client import add_api_url_option

TERMINAL = {"COMPLETED", "NEEDS_HUMAN", "BLOCKED", "FAILED"}


def register(commands: argparse._SubParsersAction[Any]) -> None:
    ask = commands.add_parser("ask", help="ask a question through the running local stack")
    ask.add_argument("question")
    ask.add_argument("--session-id")
    ask.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the result")
    ask.add_argument("--json", action="store_true")
    add_api_url_option(ask)
    ask.set_defaults(run=_ask)


def submit_and_wait(
    api_url: str, question: str, *, session_id: str | None = None, timeout: float = 60.0
) -> dict[str, Any]:
    body: dict[str, Any] = {"question": question}
    if session_id:
        body["session_id"] = session_id
    with httpx.Client(base_url=api_url, timeout=10) as client:
        try:
            accepted = client.post("/v1/chat", json=body)
        except httpx.HTTPError as error:
            raise CliError(
                f"no local stack answers at {api_url} ({error})", code="stack_unreachable"
            ) from error
        if accepted.status_code != 202:
            raise CliError(_api_error(accepted), code="rejected")
        status_url = accepted.json()["status_url"]
        deadline = time.monotonic() + timeout
        delay = 0.1
        while True:
            job = client.get(status_url)
            if job.status_code != 200:
                raise CliError(_api_error(job), code="job_error")
            data = job.json()
            if data.get("status") in TERMINAL:
                return data
            if time.monotonic() > deadline:
                raise CliError(
                    f"job {data.get('job_id')} still {data.get('status')} after {timeout:.0f}s",
                    code="timeout",
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)


def _api_error(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{response.status_code} {error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code}: {response.text[:200]}"


def _ask(args: argparse.Namespace) -> int:
    if not args.question.strip():
        raise CliError("the question is empty", code="empty_question")
    job = submit_and_wait(args.api_url, args.question, session_id=args.session_id, timeout=args.timeout)
    if args.json:
        print_json(job)
        return 0 if job["status"] != "FAILED" else 1
    print(f"[{job['status']}] route={job.get('route')}")
    print(job.get("answer") or (job.get("error") or {}).get("message", ""))
    for number, source in enumerate(job.get("sources") or [], start=1):
        print(f"  [{number}] {source['doc']} — {source['section']}")
    evaluation = job.get("evaluation") or {}
    if evaluation:
        print(f"verdict: {evaluation.get('verdict')}  faithfulness: {evaluation.get('faithfulness')}")
    return 0 if job["status"] != "FAILED" else 1
