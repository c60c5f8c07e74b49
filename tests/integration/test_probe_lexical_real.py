"""Integration: BM25 and hybrid candidates beside a real offline model, on the bundled data.

Real queries (the subsets' labelled ones), a real ONNX model and real BM25: the candidates are
measured, BM25 names the language it detected, the hybrids of the dense survivor are scored on
every query, and whatever wins, wins by the selection rule.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from autoembedding.probe import probe
from autoembedding.probe.report import format_table, report_to_dict

pytestmark = pytest.mark.integration

chromadb = pytest.importorskip("chromadb")
pytest.importorskip("bm25s")

MODEL = "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx"


def collection(folder, name, tmp_path_factory):
    docs = []
    with open(folder / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            docs.append((row["_id"], f"{row.get('title', '')} {row['text']}".strip()))
    client = chromadb.PersistentClient(path=str(tmp_path_factory.mktemp(name)))
    col = client.create_collection(name, embedding_function=None)
    vectors = np.random.default_rng(0).standard_normal((len(docs), 8)).astype(np.float32)
    col.add(ids=[i for i, _ in docs], documents=[t for _, t in docs], embeddings=vectors.tolist())
    return col


def labelled(folder):
    qrels: dict[str, set[str]] = {}
    with open(folder / "qrels.tsv", encoding="utf-8") as lines:
        next(lines)
        for line in lines:
            qid, doc_id, score = line.rstrip("\n").split("\t")
            if float(score) > 0:
                qrels.setdefault(qid, set()).add(doc_id)
    out = []
    with open(folder / "queries.jsonl", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if str(row["_id"]) in qrels:
                out.append((row["text"], sorted(qrels[str(row["_id"])])))
    return out


@pytest.mark.parametrize("dataset,language", [("cmrc2018-zh", "zh"), ("scifact", "en")])
def test_bm25_and_hybrids_beside_a_real_model(dataset, language, shared_data, tmp_path_factory):
    folder = shared_data / dataset
    col = collection(folder, dataset.replace("2018-", ""), tmp_path_factory)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = probe(
            col,
            candidates=[MODEL],
            queries=labelled(folder),
            lexical=True,
            sample_size=100,
            n_queries=60,
            budget_s=120,
        )
    by = {r.candidate.label: r for r in report.results}
    bm25 = by["bm25"]
    assert bm25.error is None and bm25.lexical["tokenizer"] == language
    assert bm25.lexical["language"] == "detected"
    assert bm25.query_p95_ms < 100 and bm25.bytes_per_vector > 0
    hybrids = [r for r in report.results if r.candidate.kind == "hybrid"]
    if by[MODEL].dropped is None or hybrids:  # a model dropped in stage 1 gets no hybrid
        assert sorted(h.candidate.fusion or "" for h in hybrids) == ["convex", "rrf"]
    for h in hybrids:
        assert h.error is None and h.candidate.parts[0].label == MODEL
        assert h.query_p50_ms >= bm25.query_p50_ms
    winner = report.winner
    assert winner is not None
    if winner.candidate.kind == "hybrid":
        assert winner.lexical["gain_over_part"]["p"] < 0.05
    table = format_table(report)
    assert f"tokenizer {language!r} (detected" in table
    json.dumps(report_to_dict(report))
