"""Run the benchmarks and keep their Markdown output under bench/results/.

.venv/bin/python -m bench                 # local runtime, pipeline latency, handler imports
.venv/bin/python -m bench pipeline        # just one
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT = ("local_runtime", "pipeline", "imports")


def main(names: list[str]) -> None:
    RESULTS.mkdir(exist_ok=True)
    for name in names or DEFAULT:
        module = importlib.import_module(f"bench.{name}")
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            module.main()
        text = buffer.getvalue()
        (RESULTS / f"{name}.md").write_text(text)
        print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
