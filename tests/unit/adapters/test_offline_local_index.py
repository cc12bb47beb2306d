from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from endurance.adapters.offline.hashing_embedder import HashingEmbedder
from endurance.adapters.offline.local_index import INDEX_FILE, LocalIndex
from endurance.domain.errors import ConfigurationError
from endurance.domain.models import Chunk

EMBEDDER = HashingEmbedder(dimension=64)

TEXTS = {
    ("policy.md", "6. Retention Periods"): "CCTV footage at Ministry buildings is kept for 30 days.",
    (
        "policy.md",
        "7. Data Subject Rights > 7.1 Access",
    ): "Subject access requests are answered within 30 days.",
    ("runbook.md", "7. Playbooks > 7.1 Ransomware"): "Ransomware must be reported to NCSC-V within 6 hours.",
    ("travel.md", "6. Accommodation"): "The maximum hotel rate in Astrava is VLC 180 per night.",
}


def _chunks() -> list[Chunk]:
    return [
        Chunk(chunk_id=f"{doc}#{i}", doc=doc, section=section, text=text)
        for i, ((doc, section), text) in enumerate(TEXTS.items())
    ]


def _index(directory: Path) -> LocalIndex:
    return LocalIndex(directory, embedder_name=EMBEDDER.name, dimension=EMBEDDER.dimension)


def _fill(index: LocalIndex) -> None:
    chunks = _chunks()
    index.upsert(chunks, EMBEDDER.embed([c.text for c in chunks]))


def _search(index: LocalIndex, query: str, **kwargs: object) -> list[Chunk]:
    return index.search(query, EMBEDDER.embed([query])[0], **kwargs)  # type: ignore[arg-type]


def test_search_fuses_vectors_and_words(tmp_path: Path) -> None:
    index = _index(tmp_path)
    _fill(index)
    results = _search(index, "How long is CCTV footage kept?", k=2)
    assert results[0].doc == "policy.md"
    assert results[0].section == "6. Retention Periods"
    assert results[0].score > results[1].score > 0
    assert results[0].metadata["bm25"] > 0 and "cosine" in results[0].metadata


def test_filters_by_document_and_section_prefix(tmp_path: Path) -> None:
    index = _index(tmp_path)
    _fill(index)
    assert {c.doc for c in _search(index, "30 days", filters={"doc": "runbook.md"})} == {"runbook.md"}
    sections = {c.section for c in _search(index, "30 days", filters={"section": "7. Data Subject"})}
    assert sections == {"7. Data Subject Rights > 7.1 Access"}
    assert _search(index, "30 days", filters={"doc": "missing.md"}) == []


def test_persists_and_reloads_across_instances(tmp_path: Path) -> None:
    writer = _index(tmp_path)
    reader = _index(tmp_path)
    assert reader.count() == 0
    _fill(writer)
    assert reader.count() == 4 and reader.documents() == ["policy.md", "runbook.md", "travel.md"]
    assert writer.delete_document("policy.md") == 2
    assert reader.documents() == ["runbook.md", "travel.md"]
    assert [c.doc for c in _search(_index(tmp_path), "Astrava hotel", k=1)] == ["travel.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [INDEX_FILE, "index.lock"], "no temp files left"


def test_upsert_replaces_by_chunk_id(tmp_path: Path) -> None:
    index = _index(tmp_path)
    _fill(index)
    changed = _chunks()[0].model_copy(update={"text": "CCTV footage is kept for 31 days."})
    index.upsert([changed], EMBEDDER.embed([changed.text]))
    assert index.count() == 4
    assert index.chunks("policy.md")[0].text == "CCTV footage is kept for 31 days."


def test_a_different_embedder_is_a_configuration_error(tmp_path: Path) -> None:
    _fill(_index(tmp_path))
    with pytest.raises(ConfigurationError, match="built with embedder 'hashing-v1' \\(64 dimensions\\)"):
        LocalIndex(tmp_path, embedder_name="hashing-v1", dimension=128)
    with pytest.raises(ConfigurationError, match="other-model"):
        LocalIndex(tmp_path, embedder_name="other-model", dimension=64)
    with pytest.raises(ConfigurationError, match="dimensions"):
        _index(tmp_path).upsert(_chunks()[:1], [[0.0] * 3])


_WRITER = """
import sys
from endurance.adapters.offline.hashing_embedder import HashingEmbedder
from endurance.adapters.offline.local_index import LocalIndex
from endurance.domain.models import Chunk
embedder = HashingEmbedder(dimension=64)
index = LocalIndex(sys.argv[1], embedder_name=embedder.name, dimension=64)
name = sys.argv[2]
for round_ in range(int(sys.argv[3])):
    chunks = [Chunk(chunk_id=f"{name}#{i}", doc=name, section="s", text=f"{name} round {round_} part {i}")
              for i in range(5)]
    index.replace_document(name, chunks, embedder.embed([c.text for c in chunks]))
"""


def test_concurrent_writers_and_a_reader(tmp_path: Path) -> None:
    """Two processes rewrite their documents while this one reads: no torn reads, no lost writes."""
    rounds = 15
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), name, str(rounds)])
        for name in ("a.md", "b.md")
    ]
    reader = _index(tmp_path)
    seen_counts = set()
    try:
        deadline = time.monotonic() + 30
        while any(w.poll() is None for w in writers):
            assert time.monotonic() < deadline, "writers did not finish"
            results = _search(reader, "round part", k=10)
            counts = {doc: sum(1 for c in reader.chunks() if c.doc == doc) for doc in reader.documents()}
            assert all(n == 5 for n in counts.values()), counts  # each write is whole: 5 chunks per doc
            seen_counts.add(len(results))
    finally:
        for writer in writers:
            writer.wait(timeout=30)
    assert [w.returncode for w in writers] == [0, 0]
    final = _index(tmp_path).chunks()
    assert len(final) == 10
    assert {c.text.split(" part ")[0] for c in final} == {
        f"a.md round {rounds - 1}",
        f"b.md round {rounds - 1}",
    }
    assert seen_counts
