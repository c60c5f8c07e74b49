"""The probe's lexical (BM25) and hybrid candidates: fake models and real BM25 on tiny corpora.

The corpus is built so that BM25 and the dense model each answer half the queries: "code" queries
name a document's reference code (BM25 finds it; :class:`CodeBlind`, like many embedding models
with part numbers, ignores tokens with digits) and "synonym" queries use a synonym of the
document's concept word (the dense model knows the synonym; BM25 shares no term with it).
"""

from __future__ import annotations

import json
from string import ascii_lowercase

import numpy as np
import pytest

from autoembedding.adapters.fake import FakeAdapter
from autoembedding.candidates import Candidate
from autoembedding.errors import InvalidArgumentError
from autoembedding.probe import probe
from autoembedding.probe.report import format_table, report_to_dict

pytest.importorskip("bm25s")


def word(i: int) -> str:
    """A letters-only word for ``i`` (no digits: the code-blind model must see it)."""
    return "".join(ascii_lowercase[(i // 26**p) % 26] for p in range(3))


class CodeBlind(FakeAdapter):
    """A 'semantic' fake: ``beta<w>`` means ``alpha<w>``; tokens with digits carry nothing."""

    def _token_vector(self, token: str) -> np.ndarray:
        if any(ch.isdigit() for ch in token):
            return np.zeros(self.native_dim, dtype=np.float32)
        if token.startswith("beta"):
            token = "alpha" + token[4:]
        return super()._token_vector(token)


N_DOCS = 60


def corpus() -> list[tuple[str, str]]:
    return [
        (
            f"d{i:03d}",
            f"The report describes the item alpha{word(i)} and where it is kept in the store. "
            f"Its reference is zq{i}x and it was checked by the team.",
        )
        for i in range(N_DOCS)
    ]


def code_queries(n: int = 40) -> list[tuple[str, list[str]]]:
    return [(f"find zq{i}x", [f"d{i:03d}"]) for i in range(n)]


def synonym_queries(n: int = 40) -> list[tuple[str, list[str]]]:
    return [(f"find beta{word(i)}", [f"d{i:03d}"]) for i in range(N_DOCS - n, N_DOCS)]


def by_label(report):
    return {r.candidate.label: r for r in report.results}


# ----------------------------------------------------------------------------- labels
@pytest.mark.parametrize(
    "label,kind,fusion",
    [
        ("bm25", "lexical", None),
        ("bm25:zh", "lexical", None),
        ("bm25:mixed:zh+en", "lexical", None),
        ("hybrid:fake/a+bm25", "hybrid", "convex"),
        ("hybrid-rrf:fake/a@32:int8+bm25:en", "hybrid", "rrf"),
        ("hybrid:intfloat/multilingual-e5-small:q4+bm25:mixed:zh+en", "hybrid", "convex"),
        ("intfloat/multilingual-e5-small:q4", "dense", None),
        ("fake/a@16:binary", "dense", None),
    ],
)
def test_labels_parse_and_round_trip(label, kind, fusion):
    cand = Candidate.parse(label)
    assert cand.label == label
    assert Candidate.parse(cand.label) == cand
    assert cand.kind == kind and cand.fusion == fusion


def test_hybrid_parts_and_bad_hybrid_labels():
    dense, lexical = Candidate.parse("hybrid-rrf:fake/a@32:int8+bm25:mixed:zh+en").parts
    assert dense == Candidate("fake/a", 32, "int8")
    assert lexical == Candidate("bm25:mixed:zh+en")
    for bad in ("hybrid:fake/a", "hybrid:+bm25", "hybrid:bm25+bm25", "hybrid:hybrid:x+bm25+bm25"):
        with pytest.raises(ValueError, match="dense label"):
            Candidate.parse(bad)
    with pytest.raises(InvalidArgumentError, match="no embedding adapter"):
        Candidate("bm25").build()


def test_bad_lexical_arguments_fail_before_work():
    docs = [t for _, t in corpus()]
    with pytest.raises(InvalidArgumentError, match="candidates\\[1\\]"):
        probe(documents=docs, candidates=["fake/a", "bm25:not a language"])
    with pytest.raises(InvalidArgumentError, match="lexical=False"):
        probe(documents=docs, candidates=["fake/a", "bm25"], lexical=False)
    with pytest.raises(InvalidArgumentError, match="lexical must be"):
        probe(documents=docs, candidates=["fake/a"], lexical="yes")
    with pytest.raises(InvalidArgumentError, match="candidates\\[0\\]"):
        probe(documents=docs, candidates=["hybrid:fake/a"])


# ------------------------------------------------------------------------ BM25 result
def test_bm25_is_measured_with_its_detected_language_and_index_costs():
    report = probe(documents=corpus(), candidates=["fake/a", "bm25"], queries=code_queries(30))
    bm25 = by_label(report)["bm25"]
    assert bm25.lexical["tokenizer"] == "en" and bm25.lexical["language"] == "detected"
    assert bm25.metrics["hit@1"] == 1.0  # each code names one document
    assert bm25.query_p95_ms is not None and bm25.query_p95_ms < 50
    assert bm25.docs_per_s > 0 and bm25.load_s is not None
    index_bytes = bm25.lexical["index_bytes"]
    assert bm25.bytes_per_vector == pytest.approx(index_bytes / bm25.lexical["index_docs"])
    assert bm25.lexical["build_s"] > 0
    row = next(c for c in report_to_dict(report)["candidates"] if c["id"] == "bm25")
    assert row["kind"] == "lexical" and row["lexical"]["tokenizer"] == "en"
    json.dumps(report_to_dict(report))
    assert "bm25: BM25, tokenizer 'en' (detected" in format_table(report)


def test_bm25_language_detected_from_chinese_documents_or_forced(test_data):
    rows = [json.loads(line) for line in open(test_data / "cmrc2018-zh" / "corpus.jsonl")]
    docs = [(r["_id"], r["text"]) for r in rows[:40]]
    report = probe(documents=docs, candidates=["bm25", "bm25:en"], sample_size=40)
    got = {r.candidate.label: r.lexical for r in report.results}
    assert got["bm25"]["tokenizer"] == "zh" and got["bm25"]["language"] == "detected"
    assert got["bm25:en"]["tokenizer"] == "en" and got["bm25:en"]["language"] == "forced"
    # jieba words find the label-free queries' documents; English stems of Chinese text do not
    metrics = {r.candidate.label: r.metrics["ndcg@10"] for r in report.results}
    assert metrics["bm25"] > metrics["bm25:en"] + 0.2


# ----------------------------------------------------------------------------- hybrids
def test_a_clearly_better_hybrid_wins_and_its_dense_part_runs_after_being_dropped():
    queries = code_queries() + synonym_queries()
    report = probe(documents=corpus(), candidates=[CodeBlind("sem")], queries=queries, lexical=True)
    by = by_label(report)
    assert set(by) == {
        "fake/sem",
        "bm25",
        "hybrid:fake/sem+bm25",
        "hybrid-rrf:fake/sem+bm25",
    }
    dense, bm25 = by["fake/sem"].metrics["ndcg@10"], by["bm25"].metrics["ndcg@10"]
    assert 0.3 < dense < 0.8 and 0.3 < bm25 < 0.8  # each answers about half
    winner = report.winner
    assert winner is not None and winner.candidate.kind == "hybrid", report.reason
    assert winner.metrics["ndcg@10"] > max(dense, bm25) + 0.3
    assert winner.lexical["gain_over_part"]["p"] < 0.05
    # scored on every query even though its parts were dropped as clearly beaten
    assert len(winner.per_query["ndcg@10"]) == report.n_queries == 80
    assert winner.part_ndcg["fake/sem"].shape == (80,)
    # hybrid costs add up both parts
    sem = by["fake/sem"]
    index_bytes = winner.lexical["index_bytes_per_doc"]
    assert winner.bytes_per_vector == pytest.approx(sem.bytes_per_vector + index_bytes)
    assert winner.query_p50_ms >= by["bm25"].query_p50_ms
    assert winner.lexical["dense"] == "fake/sem" and winner.lexical["tokenizer"] == "en"


def test_a_hybrid_no_better_than_its_best_part_does_not_win():
    # plain FakeAdapter sees the codes: dense and BM25 both answer every code query
    report = probe(documents=corpus(), candidates=["fake/a"], queries=code_queries(), lexical=True)
    by = by_label(report)
    hybrids = [r for r in report.results if r.candidate.kind == "hybrid"]
    assert len(hybrids) == 2
    for hybrid in hybrids:
        assert "not significantly better than its better part" in hybrid.lexical["not_picked"]
    assert report.winner is not None and report.winner.candidate.kind != "hybrid"
    assert "Not picked, as not significantly better" in report.reason
    assert by["bm25"].metrics["ndcg@10"] == 1.0


def test_convex_hybrid_scores_each_query_with_a_weight_chosen_without_it():
    report = probe(
        documents=corpus(),
        candidates=[CodeBlind("sem")],
        queries=code_queries() + synonym_queries(),
        lexical=True,
    )
    hybrid = by_label(report)["hybrid:fake/sem+bm25"]
    info = hybrid.lexical
    assert info["fusion"] == "convex" and info["out_of_fold"] is True
    assert len(info["fold_weights"]) == 5 and 0.0 <= info["weight"] <= 1.0


def test_dense_candidates_dropped_in_stage_one_get_no_hybrid():
    queries = code_queries() + synonym_queries()
    report = probe(
        documents=corpus(),
        candidates=[CodeBlind("sem"), FakeAdapter("junk", noise=1.0)],
        queries=queries,
        lexical=True,
    )
    by = by_label(report)
    assert by["fake/junk"].dropped and "clearly beaten after 20 queries" in by["fake/junk"].dropped
    hybrid_parts = {
        r.candidate.parts[0].label for r in report.results if r.candidate.kind == "hybrid"
    }
    assert hybrid_parts == {"fake/sem"}


def test_default_includes_bm25_and_hybrids_and_lexical_false_leaves_them_out(monkeypatch):
    import autoembedding.probe as probe_module

    monkeypatch.setattr(probe_module, "default_candidates", lambda: [Candidate("fake/d")])
    docs = corpus()
    default = probe(documents=docs, queries=synonym_queries(30))
    kinds = sorted(r.candidate.kind for r in default.results)
    assert "lexical" in kinds and "bm25" in by_label(default)
    without = probe(documents=docs, queries=synonym_queries(30), lexical=False)
    assert [r.candidate.label for r in without.results] == ["fake/d"]
    listed = probe(documents=docs, candidates=["fake/d"], queries=synonym_queries(30))
    assert [r.candidate.label for r in listed.results] == ["fake/d"]


def test_a_listed_hybrid_brings_its_parts():
    report = probe(
        documents=corpus(),
        candidates=["hybrid-rrf:fake/a+bm25:en"],
        queries=code_queries(30),
    )
    assert set(by_label(report)) == {"hybrid-rrf:fake/a+bm25:en", "fake/a", "bm25:en"}
