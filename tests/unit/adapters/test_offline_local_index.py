from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from endurance.adapters.offline import local_index
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


def _clustered(n: int, dimension: int = 32, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, dimension))
    points = centres[rng.integers(0, 40, n)] + 0.8 * rng.standard_normal((n, dimension))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def test_large_indexes_use_ivf_lists_that_persist_and_follow_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_index, "IVF_MIN_CHUNKS", 500)
    vectors = _clustered(1200)
    chunks = [Chunk(chunk_id=f"c{i}", doc=f"d{i // 100}.md", text=f"chunk {i}") for i in range(len(vectors))]
    index = LocalIndex(tmp_path, embedder_name="synthetic", dimension=32, nprobe=8)
    index.upsert(chunks, vectors.tolist())
    state = index._current()
    assert state.ivf is not None and len(state.ivf.centroids) == 34  # ~sqrt(n) lists
    queries = _clustered(50, seed=9)
    recall = np.mean(
        [
            len({c for c, _ in index.knn(q, 10)} & {c for c, _ in index.knn(q, 10, exact=True)}) / 10
            for q in queries
        ]
    )
    assert recall >= 0.9
    reopened = LocalIndex(tmp_path, embedder_name="synthetic", dimension=32, nprobe=8)
    assert reopened._current().ivf is not None
    assert [reopened.knn(q, 5) for q in queries[:5]] == [index.knn(q, 5) for q in queries[:5]]
    trained = index._current().ivf.centroids
    assert index.delete_document("d3.md") == 100
    assert np.array_equal(index._current().ivf.centroids, trained), "deleting keeps the trained lists"
    deleted = {f"c{i}" for i in range(300, 400)}
    assert not deleted & {cid for cid, _ in index.knn(vectors[350], 20)}
    more = [Chunk(chunk_id=f"n{i}", doc="new.md", text="n") for i in range(1500)]
    index.upsert(more, _clustered(1500, seed=5).tolist())
    assert index._current().ivf.trained_on == 2600, "doubling the index retrains the lists"
    exact_filtered = index.search("chunk", vectors[0], k=3, filters={"doc": "d0.md"})
    assert exact_filtered and {c.doc for c in exact_filtered} == {"d0.md"}


def test_a_chunk_found_only_by_its_words_is_still_returned(tmp_path: Path) -> None:
    index = _index(tmp_path)
    _fill(index)
    unrelated = [1.0] + [0.0] * (EMBEDDER.dimension - 1)
    results = index.search("Astrava hotel rate", unrelated, k=4)
    astrava = next(c for c in results if c.doc == "travel.md")
    assert astrava.metadata["bm25"] > 0 and "cosine" in astrava.metadata


def test_an_index_file_of_another_format_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / INDEX_FILE).write_bytes(b"ENDIDX9\n" + b"\x00" * 16)
    with pytest.raises(ConfigurationError, match="delete the folder and re-ingest"):
        _index(tmp_path)


def test_a_version_1_index_is_still_read(tmp_path: Path) -> None:
    import json
    import struct
    from array import array

    chunk = Chunk(chunk_id="a.md#1", doc="a.md", section="S", text="CCTV footage is kept for 30 days.")
    header = json.dumps(
        {
            "embedder": EMBEDDER.name,
            "dimension": 64,
            "chunks": [chunk.model_dump(mode="json", exclude={"score"})],
        }
    ).encode()
    vector = array("f", EMBEDDER.embed([chunk.text])[0]).tobytes()
    (tmp_path / INDEX_FILE).write_bytes(b"ENDIDX1\n" + struct.pack("<Q", len(header)) + header + vector)
    index = _index(tmp_path)
    assert [c.chunk_id for c in _search(index, "CCTV footage", k=1)] == ["a.md#1"]
    _fill(index)
    assert (tmp_path / INDEX_FILE).read_bytes().startswith(b"ENDIDX2\n") and index.count() == 5


def test_lexical_terms_add_word_prefixes_so_derived_forms_meet() -> None:
    assert local_index.lexical_terms("approve")[-1] == local_index.lexical_terms("Approval")[-1] == "~appr"
    assert "~resp" in local_index.lexical_terms("respond")
    assert "~resp" in local_index.lexical_terms("response")
    # Numbers and short words get no prefix term: "30" must not match "300", nor "risk" anything else.
    assert local_index.lexical_terms("30 risk") == ["30", "risk"]


def test_bm25_matches_a_heading_in_another_word_form(tmp_path: Path) -> None:
    index = _index(tmp_path)
    texts = {
        "4.2 Approval Requirements": "Tier 3 systems need the AI Ethics Board.",
        "4.1 Tier Definitions": "Tier 3 systems inform decisions about people.",
        "9. Register": "Tier 2 and Tier 3 systems are recorded in the register.",
    }
    chunks = [
        Chunk(chunk_id=f"ai.md#{i}", doc="ai.md", section=section, text=text)
        for i, (section, text) in enumerate(texts.items())
    ]
    index.upsert(chunks, EMBEDDER.embed([c.text for c in chunks]))
    rows, _ = local_index._bm25(
        index._current(), local_index.lexical_terms("Who must approve Tier 3 systems?"), 10, None
    )
    assert chunks[int(rows[0])].section == "4.2 Approval Requirements"


def test_coverage_counts_the_share_of_query_idf_each_chunk_holds(tmp_path: Path) -> None:
    index = _index(tmp_path)
    _fill(index)
    terms = local_index.lexical_terms("CCTV footage ransomware")
    shares = local_index._coverage(index._current(), terms, np.arange(4)).tolist()
    assert shares[0] > 0.5 and shares[2] > 0 and shares[1] == shares[3] == 0.0
    assert shares[0] + shares[2] == pytest.approx(1.0)
