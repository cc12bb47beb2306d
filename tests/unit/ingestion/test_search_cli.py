"""`endurance ingest` and `endurance search` on a temporary state dir (no stack running)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from endurance.providers import clear_cache
from endurance_cli.main import main as cli

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus"


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("state")
    docs = folder / "docs"
    docs.mkdir()
    for name in ("Incident_Response_Runbook.md", "Data_Protection_Policy.md"):
        (docs / name).write_bytes((CORPUS / name).read_bytes())
    (docs / "blob.txt").write_bytes(b"\x00\x01\x02" * 50)
    (docs / "empty.md").write_bytes(b"")
    clear_cache()
    assert cli(["ingest", str(docs), "--state-dir", str(folder)]) == 1, "failures give a non-zero exit"
    return folder


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_bad_file_does_not_stop_the_folder(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "search", "SEV-1 acknowledgement", "--state-dir", str(state_dir), "--json")
    assert code == 0
    docs = {hit["doc"] for hit in json.loads(out)}
    assert "Incident_Response_Runbook.md" in docs


def test_search_json_shape_and_order(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        "search",
        "How quickly must the SOC acknowledge a SEV-1 incident?",
        "--k",
        "3",
        "--state-dir",
        str(state_dir),
        "--json",
    )
    hits = json.loads(out)
    assert code == 0 and len(hits) == 3
    assert all(set(hit) == {"doc", "section", "chunk_id", "score", "text"} for hit in hits)
    assert hits[0]["section"] == "2. Severity Levels > 2.2 Acknowledgement and Update Times"
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_batch_mode_writes_one_line_per_input(
    state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "a", "question": "How long is CCTV footage kept?"})
        + "\n\n"
        + json.dumps({"id": 7, "question": "Who declares a SEV-1?"})
        + "\n"
    )
    code, out, _ = _run(
        capsys, "search", "--input", str(questions), "--k", "2", "--state-dir", str(state_dir), "--json"
    )
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [line["id"] for line in lines] == ["a", 7]
    assert all(len(line["results"]) == 2 for line in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "   "], "query is empty"),
        (["search", "x", "--k", "0"], "--k must be between 1 and 50"),
        (["search", "x", "--k", "51"], "--k must be between 1 and 50"),
        (["search"], "query is empty"),
        (["search", "x", "--input", "q.jsonl"], "not both"),
        (["search", "--input", "missing.jsonl"], "no such file"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    args: list[str], message: str, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, *args, "--state-dir", str(state_dir))
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_bad_batch_lines_name_their_line(
    tmp_path: Path, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "question": "ok"}\n{"question": "no id"}\n')
    code, _, err = _run(capsys, "search", "--input", str(bad), "--state-dir", str(state_dir), "--json")
    assert code == 2
    assert json.loads(err)["error"] == {
        "code": "invalid_input",
        "message": f'{bad}:2: each line needs "id" and a string "question"',
    }


def test_ingest_of_a_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "ingest", str(tmp_path / "nowhere"), "--state-dir", str(tmp_path))
    assert code == 2 and "no such file or folder" in err
