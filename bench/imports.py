"""Handler import time (the cold start's share we control), each in a fresh interpreter.

Run: .venv/bin/python -m bench.imports [ROUNDS]   (results in bench/results/imports.md)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.common import header

ROOT = Path(__file__).resolve().parents[1]
PROBE = "import time; t = time.perf_counter(); import app; print((time.perf_counter() - t) * 1000)"


def import_ms(function_dir: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "PYTHONPATH": f"{function_dir}{os.pathsep}{ROOT / 'layers' / 'core'}",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=function_dir, env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main(rounds: int = 5) -> None:
    print(header(f"Handler import time in a fresh interpreter (median of {rounds})"))
    print("| handler | import ms |\n|---|---|")
    for function_dir in sorted((ROOT / "functions").iterdir()):
        if (function_dir / "app.py").exists():
            times = [import_ms(function_dir) for _ in range(rounds)]
            print(f"| {function_dir.name} | {statistics.median(times):.0f} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
