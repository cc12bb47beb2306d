from __future__ import annotations

import sys
from pathlib import Path

import pytest
from endurance.adapters.offline.hashing_embedder import HashingEmbedder
from endurance.adapters.offline.local_index import LocalIndex
from endurance.ingestion.ingest import delete_document, ingest_document, ingest_path

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus"
POLICY = b"# Policy\n\n## 1. Scope\n\nApplies to everyone.\n\n## 2. Retention\n\nCCTV is kept for 30 days.\n"


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def index(tmp_path: Path, embedder: HashingEmbedder) -> LocalIndex:
    return LocalIndex(tmp_path / "index", embedder_name=embedder.name, dimension=embedder.dimension)


def test_ingesting_the_corpus_folder(embedder: HashingEmbedder, index: LocalIndex) -> None:
    progress: list[tuple[int, int, str]] = []
    results = ingest_path(CORPUS, embedder=embedder, index=index, progress=lambda *a: progress.append(a))
    names = sorted(p.name for p in CORPUS.glob("*.md"))
    assert [r.doc for r in results] == names and {r.status for r in results} == {"INDEXED"}
    assert index.documents() == names
    assert index.count() == sum(r.chunks for r in results)
    assert progress[-1] == (len(names), len(names), names[-1])


def test_reingesting_is_idempotent(embedder: HashingEmbedder, index: LocalIndex) -> None:
    first = ingest_document("policy.md", POLICY, embedder=embedder, index=index)
    ids = [c.chunk_id for c in index.chunks("policy.md")]
    second = ingest_document("policy.md", POLICY, embedder=embedder, index=index)
    assert first.chunks == second.chunks == 2 and index.count() == 2
    assert [c.chunk_id for c in index.chunks("policy.md")] == ids


def test_a_new_version_replaces_all_chunks_and_delete_removes_them(
    embedder: HashingEmbedder, index: LocalIndex
) -> None:
    ingest_document("policy.md", POLICY, embedder=embedder, index=index)
    ingest_document("other.md", b"# Other\n\nUnrelated text.\n", embedder=embedder, index=index)
    ingest_document("policy.md", POLICY.replace(b"30 days", b"60 days"), embedder=embedder, index=index)
    texts = [c.text for c in index.chunks("policy.md")]
    assert texts == ["Applies to everyone.", "CCTV is kept for 60 days."]
    result = delete_document("policy.md", index=index)
    assert (result.status, result.chunks) == ("DELETED", 2)
    assert index.documents() == ["other.md"]
    assert delete_document("policy.md", index=index).chunks == 0


def test_unreadable_documents_fail_without_stopping_the_folder(
    tmp_path: Path, embedder: HashingEmbedder, index: LocalIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pypdf", None)
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.md").write_bytes(POLICY)
    (folder / "sub" / "a.md").write_bytes(POLICY)
    (folder / "empty.txt").write_bytes(b"  \n")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4")
    (folder / "ignored.xlsx").write_bytes(b"x")
    results = {
        (r.doc, r.status, (r.error or "")[:30]) for r in ingest_path(folder, embedder=embedder, index=index)
    }
    assert {(doc, status) for doc, status, _ in results} == {
        ("a.md", "INDEXED"),
        ("a.md", "FAILED"),
        ("empty.txt", "FAILED"),
        ("scan.pdf", "FAILED"),
    }
    assert index.documents() == ["a.md"]
    with pytest.raises(FileNotFoundError):
        ingest_path(folder / "missing", embedder=embedder, index=index)
