"""`endurance answer --input questions.jsonl [--state-dir D] --json`: run the chat pipeline in-process.

The same step functions the Lambdas run (services.steps: classify with follow-up rewriting, retrieve,
answer, evaluate, persist), with the same providers built from the environment's settings, over the
local index in the state dir. Jobs, session turns and events are kept in memory instead of DynamoDB/SNS,
so no stack is needed; questions that share a ``session_id`` form a conversation, as they would through
the API. One output line per input: ``{"id", "route", "status", "answer", "sources", "evaluation"}``
(plus ``"error"`` when a step failed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from endurance_cli.output import CliError, ProgressBar, print_json

if TYPE_CHECKING:
    from endurance.config import Settings
    from endurance.domain.models import Job, JobEnvelope, JobEvent, JobStatus, Route, Source, StepRecord


def register(commands: argparse._SubParsersAction[Any]) -> None:
    parser = commands.add_parser(
        "answer", help="answer a file of questions in-process (the pipeline's own steps, no stack)"
    )
    parser.add_argument("--input", required=True, type=Path, help="JSON lines with id and question")
    parser.add_argument("--state-dir", type=Path, default=Path(".endurance"), help="holds index/")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(run=_answer)


def read_questions(path: Path) -> list[dict[str, str]]:
    """Validated input rows: each a JSON object with a non-empty ``question``; ``id`` defaults to the line
    number, ``session_id`` is optional (shared ids make a conversation)."""
    if not path.is_file():
        raise CliError(f"no such file: {path}", code="not_found")
    rows: list[dict[str, str]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise CliError(f"{path} is not UTF-8 text", code="bad_input") from error
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as error:
            raise CliError(f"{path}:{number}: not JSON ({error.args[0]})", code="bad_input") from error
        if not isinstance(row, dict):
            raise CliError(f"{path}:{number}: expected a JSON object", code="bad_input")
        question = row.get("question")
        if not isinstance(question, str) or not question.strip():
            raise CliError(f"{path}:{number}: 'question' must be a non-empty string", code="bad_input")
        if len(question) > 4000:
            raise CliError(f"{path}:{number}: 'question' is longer than 4000 characters", code="bad_input")
        session = row.get("session_id")
        if session is not None and not isinstance(session, str):
            raise CliError(f"{path}:{number}: 'session_id' must be a string", code="bad_input")
        rows.append(
            {"id": str(row.get("id", f"line-{number}")), "question": question, "session_id": session or ""}
        )
    if not rows:
        raise CliError(f"{path} has no questions", code="bad_input")
    return rows


@dataclass
class MemoryJobs:
    """The JobRepository port in memory: what a batch run records instead of the jobs table."""

    jobs: dict[str, Job] = field(default_factory=dict)

    def create(self, job: Job) -> None:
        self.jobs[job.job_id] = job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def mark_running(self, job_id: str, attempt: int) -> bool:
        return job_id in self.jobs

    def record_step(self, job_id: str, step: StepRecord) -> None:
        job = self.jobs[job_id]
        job.steps = [s for s in job.steps if s.name != step.name] + [step]

    def complete(
        self,
        envelope: JobEnvelope,
        *,
        status: JobStatus,
        route: Route,
        answer: str,
        sources: list[Source],
        evaluation: Mapping[str, Any] | None,
        generation: Mapping[str, Any] | None = None,
    ) -> None:
        job = self.jobs[envelope.job_id]
        job.status, job.route, job.answer, job.sources = status, route, answer, sources
        job.evaluation = dict(evaluation) if evaluation is not None else None
        job.generation = dict(generation) if generation is not None else None

    def mark_failed(
        self, envelope: JobEnvelope, error: Mapping[str, Any], failed_step: StepRecord | None = None
    ) -> None:
        from endurance.domain.models import JobStatus

        job = self.jobs[envelope.job_id]
        job.status, job.error = JobStatus.FAILED, dict(error)

    def reset_queued(self, job_id: str, attempt: int) -> bool:
        return job_id in self.jobs


@dataclass
class MemorySessions:
    turns: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))

    def add_turn(self, session_id: str, turn_key: str, turn: Mapping[str, Any]) -> bool:
        if turn_key in self.turns[session_id]:
            return False
        self.turns[session_id][turn_key] = dict(turn)
        return True

    def list_turns(self, session_id: str) -> list[dict[str, Any]]:
        return [self.turns[session_id][key] for key in sorted(self.turns[session_id])]


@dataclass
class MemoryEvents:
    events: list[JobEvent] = field(default_factory=list)

    def publish(self, event: JobEvent) -> None:
        self.events.append(event)


def pipeline_settings(state_dir: Path) -> Settings:
    """The environment's settings (providers, models, keys' locations), with the local index of state_dir."""
    from endurance.config import Settings
    from endurance.domain.errors import ConfigurationError

    try:
        settings = Settings.from_env()
    except ConfigurationError as error:
        raise CliError(str(error), code="bad_settings") from error
    return settings.model_copy(
        update={
            "vector_store": "local",
            "local_index_dir": "",
            "local_runtime_state_dir": str(state_dir.resolve()),
        }
    )


def answer_rows(rows: Sequence[Mapping[str, str]], settings: Settings) -> Iterator[dict[str, Any]]:
    """Run every row through the pipeline's steps; yields one result per row, in order."""
    from endurance import providers
    from endurance.domain.errors import EnduranceError
    from endurance.domain.models import Job, JobEnvelope, JobStatus, Route, utc_now
    from endurance.pipeline.answer import answer
    from endurance.pipeline.evaluate import evaluate
    from endurance.pipeline.retrieve import retrieve
    from endurance.services import steps

    try:
        classify = providers.build_classifier(settings)
        condense = providers.build_condenser(settings)
        embedder = providers.build_embedder(settings)
        index = providers.build_vector_index(settings)
        generator = providers.build_generator(settings)
    except EnduranceError as error:
        raise CliError(str(error), code="bad_settings") from error
    if index.count() == 0:
        raise CliError(
            f"the index at {settings.index_dir()} is empty: run `endurance ingest PATH --state-dir "
            f"{Path(settings.local_runtime_state_dir)}` first",
            code="empty_index",
        )
    jobs, sessions, events = MemoryJobs(), MemorySessions(), MemoryEvents()
    deps: dict[str, Any] = {"jobs": jobs, "publisher": events}
    run_session = uuid.uuid4().hex[:8]

    def _retrieve(question: str) -> Any:
        return retrieve(question, embedder=embedder, index=index, k=settings.retrieve_k)

    def _answer(question: str, chunks: Any, route: Route) -> Any:
        return answer(question, chunks, generator=generator, route=route)

    for row in rows:
        job_id = uuid.uuid4().hex
        session_id = row.get("session_id") or f"batch-{run_session}-{job_id}"
        envelope = JobEnvelope(
            job_id=job_id, question=row["question"], session_id=session_id, created_at=utc_now()
        )
        jobs.create(
            Job(
                job_id=job_id,
                status=JobStatus.RUNNING,
                question=envelope.question,
                session_id=session_id,
                created_at=envelope.created_at,
            )
        )
        state: dict[str, Any] = {"job": envelope.model_dump(mode="json")}
        started = time.perf_counter()
        try:
            state = steps.classify_step(
                state,
                classify=classify,
                sessions=sessions,
                condense=condense,
                max_turns=settings.conversation_turns,
                **deps,
            )
            route = steps.route_of(state)
            state = steps.retrieve_step(state, retrieve=_retrieve, **deps)
            if route in (Route.RAG, Route.DIRECT):
                state = steps.answer_step(state, answer=_answer, **deps)
                state = steps.evaluate_step(state, evaluate=evaluate, **deps)
            state = steps.persist_step(state, sessions=sessions, **deps)
        except EnduranceError as error:
            yield {
                "id": row["id"],
                "route": (state.get("classification") or {}).get("route"),
                "status": "FAILED",
                "answer": None,
                "sources": [],
                "evaluation": None,
                "error": {"type": type(error).__name__, "message": str(error)[:500]},
            }
            continue
        job = jobs.jobs[job_id]
        result: dict[str, Any] = {
            "id": row["id"],
            "route": route.value,
            "status": job.status.value,
            "answer": job.answer,
            "sources": [source.model_dump(mode="json") for source in job.sources],
            "evaluation": job.evaluation,
        }
        # Not part of the line contract: the bench reads them, and they are handy when debugging.
        result["_debug"] = {
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "classification": state.get("classification"),
            "generation": steps.generation_of(state),
        }
        yield result


def _answer(args: argparse.Namespace) -> int:
    rows = read_questions(args.input)
    settings = pipeline_settings(args.state_dir)
    bar = ProgressBar("answering")
    failed = 0
    try:
        for done, result in enumerate(answer_rows(rows, settings), start=1):
            result.pop("_debug", None)
            failed += result["status"] == "FAILED"
            if args.json:
                print_json(result)
            else:
                _print_human(result)
            bar.update(done, len(rows), result["id"])
    finally:
        bar.close()
    return 1 if failed else 0


def _print_human(result: Mapping[str, Any]) -> None:
    print(f"{result['id']} [{result['status']}] route={result['route']}")
    print(f"  {result['answer'] if result['answer'] is not None else result.get('error', {}).get('message')}")
    for number, source in enumerate(result["sources"], start=1):
        print(f"  [{number}] {source['doc']} — {source['section']}")
    evaluation = result.get("evaluation") or {}
    if evaluation:
        print(f"  verdict: {evaluation.get('verdict')}  faithfulness: {evaluation.get('faithfulness')}")
    sys.stdout.flush()
