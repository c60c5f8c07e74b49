"""Integration: the probe on real offline models over a real embedded Chroma (SciFact subset)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from autoembedding.candidates import Targets
from autoembedding.probe import default_candidates, probe

pytestmark = pytest.mark.integration

chromadb = pytest.importorskip("chromadb")

ONNX = [
    "sentence-transformers/all-MiniLM-L6-v2:onnx-int8",
    "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx",
]


@pytest.fixture(scope="module")
def scifact_collection(shared_data, tmp_path_factory):
    """The first 300 SciFact abstracts in an embedded Chroma (random stored vectors)."""
    docs = []
    with open(shared_data / "scifact" / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            docs.append((row["_id"], f"{row.get('title', '')}. {row['text']}".strip()))
            if len(docs) == 300:
                break
    client = chromadb.PersistentClient(path=str(tmp_path_factory.mktemp("scifact")))
    col = client.create_collection("scifact300", metadata={"k": "v"}, embedding_function=None)
    vectors = np.random.default_rng(0).standard_normal((len(docs), 8)).astype(np.float32)
    col.add(ids=[i for i, _ in docs], documents=[t for _, t in docs], embeddings=vectors.tolist())
    return col


def test_default_candidates_are_the_four_offline_models():
    labels = {c.label for c in default_candidates()}
    assert set(ONNX) <= labels
    assert "sentence-transformers/all-MiniLM-L6-v2" in labels
    assert "intfloat/multilingual-e5-small:q4" in labels


def test_probe_two_onnx_models_and_variants(scifact_collection):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = probe(
            scifact_collection,
            candidates=[*ONNX, ONNX[0] + "@128:int8"],
            targets=Targets(max_bytes_per_vector=2000),
            sample_size=80,
            n_queries=32,
            max_doc_chars=500,
            budget_s=40,
        )
    by = {r.candidate.label: r for r in report.results}
    assert report.winner is not None, report.reason
    for label in ONNX:
        r = by[label]
        assert r.error is None, r.error
        assert 0.0 < r.metrics["ndcg@10"] <= 1.0
        assert r.docs_per_s > 0 and r.query_p95_ms > 0 and r.bytes_per_vector == 384 * 4
    assert by[ONNX[0] + "@128:int8"].bytes_per_vector == 128
    # label-free ICT queries on scientific abstracts: a real model finds the source often
    assert max(r.metrics["hit@5"] for r in by.values() if r.metrics) > 0.5
    assert scifact_collection.count() == 300 and scifact_collection.metadata == {"k": "v"}


def test_labelled_scifact_queries(scifact_collection, shared_data):
    report = probe(
        scifact_collection,
        candidates=[ONNX[1]],
        queries=(shared_data / "scifact" / "queries.jsonl", shared_data / "scifact" / "qrels.tsv"),
        sample_size=40,
        n_queries=20,
        max_doc_chars=500,
    )
    assert report.query_kind == "labelled"
    # only queries whose relevant abstracts are among the first 300 are usable
    assert 0 < report.n_queries <= 20


@pytest.mark.slow
def test_probe_four_offline_models(scifact_collection):
    """All four offline models; over 60 s on a shared 2-core machine, hence slow.

    Under the 90 s budget a model that could not embed the 100-document sample in what the
    budget leaves it is skipped after its first documents (e5 at ~0.5-1 s an abstract on a
    2-core machine): then the report says so and the others are measured; on a faster machine
    all four are.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = probe(
            scifact_collection, sample_size=100, n_queries=40, budget_s=90, lexical=False
        )
    assert len(report.results) == 4
    errors = {r.candidate.label: r.error for r in report.results if r.error is not None}
    for label, error in errors.items():
        assert label == "intfloat/multilingual-e5-small:q4", errors
        assert "skipped for budget_s=90" in error and "100-document sample" in error, error
        assert any("was skipped; a larger budget_s measures it" in n for n in report.notes)
    measured = [r for r in report.results if r.error is None]
    assert len(measured) >= 3 and all(r.metrics["ndcg@10"] > 0.3 for r in measured)
    assert report.winner is not None and report.winner.error is None
