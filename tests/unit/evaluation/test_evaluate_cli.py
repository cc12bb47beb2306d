"""`endurance evaluate` in-process: batch and single modes, the exact output fields, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from endurance_cli.evaluate_command import OUTPUT_FIELDS
from endurance_cli.main import main

CONTEXT = "Overdue adult items are charged at 25p per day, up to a maximum of £6 per item."


def write(path: Path, lines: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def test_batch_json_has_id_and_exactly_the_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = write(
        tmp_path / "cases.jsonl",
        [
            {
                "id": "ok",
                "question": "What is the late fine?",
                "contexts": [CONTEXT],
                "answer": "25p a day, up to £6.",
            },
            {"id": 2, "question": "What is the late fine?", "contexts": [CONTEXT], "answer": "50p a day."},
        ],
    )
    assert main(["evaluate", "--input", str(cases), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["ok", 2]
    assert all(set(r) == {"id", *OUTPUT_FIELDS} for r in rows)
    assert rows[0]["hallucination"] is False and rows[1]["hallucination"] is True


def test_single_answer_mode(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "evaluate",
            "--question",
            "What is the late fine?",
            "--context",
            CONTEXT,
            "--answer",
            "You'll pay 25p a day.",
            "--json",
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == set(OUTPUT_FIELDS) and result["verdict"] in {"pass", "warn", "fail"}
    assert main(["evaluate", "--question", "Q?", "--context", CONTEXT, "--answer", "You idiot."]) == 0
    assert "verdict fail" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"id": "a", "question": "Q?", "contexts": ["c"], "answer": ""}\n', "line 1: the answer is empty"),
        (b'{"id": "a", "question": "Q?", "contexts": [], "answer": "A."}\n', "line 1: no contexts"),
        (b'{"id": "a", "question": "Q?", "contexts": "c", "answer": "A."}\n', "line 1: 'contexts' must be"),
        (b'{"question": "Q?", "contexts": ["c"], "answer": "A."}\n', "line 1: 'id' must be"),
        (
            b'{"id": "a", "question": "Q?", "contexts": ["c"], "answer": "A."}\n{oops\n',
            "line 2: not valid JSON",
        ),
        (
            b'{"id": "a", "question": "Q?", "contexts": ["c"], "answer": 5}\n',
            "line 1: 'answer' must be a string",
        ),
        (b'\xff\xfe{"id": 1}\n', "is not UTF-8"),
        (b"", "holds no cases"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    assert main(["evaluate", "--input", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    error = json.loads(captured.err)["error"]
    assert message in error["message"]


def test_missing_file_and_missing_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--input", str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["evaluate"]) == 2
    assert main(["evaluate", "--question", "Q?", "--answer", "A."]) == 2
    assert "no contexts" in capsys.readouterr().err
