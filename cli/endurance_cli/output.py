"""How the CLI talks: JSON for scripts, short text for people, errors on stderr with a non-zero exit."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO


class CliError(Exception):
    """An error the user can act on: printed as one line (or a JSON object with --json), exit code 2."""

    def __init__(self, message: str, *, code: str = "error", exit_code: int = 2) -> None:
        super().__init__(message)
        self.code = code
        self.exit_code = exit_code


def print_json(value: Any, out: TextIO | None = None) -> None:
    out = out or sys.stdout  # looked up per call: tests and callers may redirect sys.stdout
    out.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")
    out.flush()


def print_error(error: CliError, *, as_json: bool) -> None:
    if as_json:
        print_json({"error": {"code": error.code, "message": str(error)}}, sys.stderr)
    else:
        print(f"endurance: {error}", file=sys.stderr)


class ProgressBar:
    """A one-line progress bar on stderr (only when stderr is a terminal, so logs and CI stay clean)."""

    def __init__(self, label: str, *, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.label = label
        self.stream = stream
        self.width = width
        self.enabled = stream.isatty()

    def update(self, done: int, total: int, item: str = "") -> None:
        if not self.enabled or total <= 0:
            return
        filled = int(self.width * done / total)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} {item[:40]:<40}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
