"""The probe times a query as ``AutoRetriever`` serves it on the whole collection (issue 23.4).

Dense: ``embed_query`` plus a vector search as large as the collection and reading the results;
BM25: a search of an index as large as the collection; hybrid: both, the fusion and the reads.
At least 30 queries after a warm-up, a p95 with an interval, one spike does not drop a
candidate, and timings wait for (or are marked beside) abandoned time-boxed workers.
"""

from __future__ import annotations

import json
import threading
import time
import warnings
from typing import Any

import pytest

from autoembedding.adapters.fake import FakeAdapter
from autoembedding.candidates import Candidate, Targets
from autoembedding.probe import probe, serving
from autoembedding.probe.measure import Model, measure
from autoembedding.probe.queries import ProbeDoc, ProbeQuery
from autoembedding.probe.stages import Stage
from autoembedding.probe.timebox import THREAD_NAME, run_with_timeout

WORDS = "apple river stone cloud maple ocean tiger lemon piano rocket candle forest".split()


def docs(n: int) -> list[tuple[str, str]]:
    """``n`` distinct documents, each with a few shared words and a unique code."""
    out = []
    for i in range(n):
        words = " ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(6))
        out.append(
            (f"d{i:05d}", f"The {words} note number q{i}z. It was filed by team {i % 13} today.")
        )
    return out


def quiet_probe(*args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return probe(*args, **kwargs)


def test_dense_latency_is_embed_plus_a_vector_search_over_the_whole_collection() -> None:
    # today: embed_query alone, 15 queries, no interval, nothing about the collection's size
    report = quiet_probe(
        documents=docs(6000),
        candidates=[FakeAdapter("a", dim=1536, latency_ms=1.0)],
        sample_size=40,
        lexical=False,
    )
    result = report.results[0]
    facts = result.latency
    assert facts["collection_docs"] == 6000  # not the 40-document pool
    assert facts["n_queries"] >= 30
    assert set(facts["parts_p50_ms"]) == {"embed", "vector search"}  # no store: no read
    # 6,000 x 1536 floats is over the 8M-float cap: extrapolated, and labelled so
    assert facts["basis"]["vector search"].startswith("extrapolated (linear) to 6,000")
    assert facts["parts_p50_ms"]["embed"] >= 1.0
    low, high = facts["p95_interval_ms"]
    assert low <= result.query_p95_ms <= high
    assert result.query_p50_ms >= facts["parts_p50_ms"]["embed"]


def test_bm25_is_timed_on_an_index_as_large_as_the_collection(monkeypatch) -> None:
    # today: a search over the 40-document pool
    sizes: list[int] = []
    real = serving._resampled

    def record(pool: Any, n: int) -> Any:
        sizes.append(n)
        return real(pool, n)

    monkeypatch.setattr(serving, "_resampled", record)
    report = quiet_probe(documents=docs(3000), candidates=["fake/a", "bm25"], sample_size=40)
    bm25 = next(r for r in report.results if r.candidate.label == "bm25")
    assert sizes == [3000]  # one index, the collection's size, built once
    assert bm25.latency["collection_docs"] == 3000
    assert "timed over 3,000 BM25 documents" in bm25.latency["basis"]["bm25 search"]
    assert bm25.latency["n_queries"] >= 30
    from autoembedding.probe.report import report_to_dict

    row = next(r for r in report_to_dict(report)["candidates"] if r["id"] == "bm25")
    assert row["latency"]["collection_docs"] == 3000  # the report says how it was timed
    json.dumps(row["latency"])

    sizes.clear()  # a collection over the cap: two sizes, extrapolated and labelled
    monkeypatch.setattr(serving, "BM25_DOCS_CAP", 400)
    report = quiet_probe(documents=docs(3000), candidates=["fake/a", "bm25"], sample_size=40)
    bm25 = next(r for r in report.results if r.candidate.label == "bm25")
    assert sizes == [100, 400]
    assert bm25.latency["basis"]["bm25 search"].startswith("extrapolated (linear) to 3,000")


class SlowReads:
    """A Chroma collection whose reads by id take ``read_s`` (a server far away)."""

    def __init__(self, collection: Any, read_s: float) -> None:
        self._collection = collection
        self.read_s = read_s
        self.reads = 0

    def get(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("ids"):
            self.reads += 1
            time.sleep(self.read_s)
        return self._collection.get(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)


def test_hybrid_latency_has_both_searches_the_fusion_and_the_reads(tmp_path) -> None:
    # today: embed_query + BM25 over the pool + fusion, no vector search and no read
    chromadb = pytest.importorskip("chromadb")
    pytest.importorskip("bm25s")
    client = chromadb.PersistentClient(path=str(tmp_path))
    raw = client.create_collection("lat", embedding_function=None)
    rows = docs(120)
    raw.add(
        ids=[i for i, _ in rows],
        documents=[t for _, t in rows],
        embeddings=FakeAdapter("store", dim=8).embed_documents([t for _, t in rows]).tolist(),
    )
    store = SlowReads(raw, read_s=0.004)
    report = quiet_probe(
        store,
        candidates=["fake/a", "bm25", "hybrid-rrf:fake/a+bm25"],
        sample_size=60,
        targets=Targets(),
    )
    by = {r.candidate.label: r for r in report.results}
    hybrid = by["hybrid-rrf:fake/a+bm25"]
    assert hybrid.error is None, hybrid.error
    parts = hybrid.latency["parts_p50_ms"]
    assert {"embed", "vector search", "fetch", "count", "bm25 search", "fusion"} <= set(parts)
    assert store.reads >= 30  # the reads were timed on the collection itself
    for label in ("fake/a", "bm25", "hybrid-rrf:fake/a+bm25"):
        assert by[label].latency["parts_p50_ms"]["fetch"] >= 4.0, label
        assert by[label].query_p50_ms >= 4.0, label
    assert hybrid.latency["collection_docs"] == 120
    assert hybrid.query_p50_ms >= parts["embed"] + parts["fetch"]


class Spiky(FakeAdapter):
    """A fast fake whose ``embed_query`` stalls on a few chosen calls (a GC pause, a page fault)."""

    def __init__(self, name: str, stall_calls: set[int], stall_s: float = 0.25) -> None:
        super().__init__(name)
        self.state = {"calls": 0}  # shared with the probe's views (shallow copies)
        self.stall_calls, self.stall_s = stall_calls, stall_s

    def embed_query(self, text: str) -> Any:
        self.state["calls"] += 1
        if self.state["calls"] in self.stall_calls:
            time.sleep(self.stall_s)
        return super().embed_query(text)


def test_one_spike_does_not_drop_a_candidate_for_a_latency_target() -> None:
    # today: p95 of 15 queries takes 30% of one 250 ms stall: ~75 ms > 50 ms, dropped
    report = quiet_probe(
        documents=docs(120),
        candidates=[Spiky("spiky", stall_calls={6}), "fake/b"],
        targets=Targets(max_query_ms=50),
        sample_size=40,
        lexical=False,
    )
    spiky = next(r for r in report.results if r.candidate.label == "fake/spiky")
    assert spiky.dropped is None and spiky.error is None
    assert spiky.query_p95_ms < 50 and spiky.meets_targets
    assert not spiky.latency["retimed"]  # the p95 of 30 queries is not moved by one spike


def test_an_undecided_latency_is_measured_again_once_before_it_is_judged() -> None:
    # two stalls among 30 queries put the p95 over the target, but its interval reaches it:
    # the candidate stays in the race and is re-measured once (today: dropped at once)
    report = quiet_probe(
        documents=docs(120),
        candidates=[Spiky("spiky", stall_calls={6, 7}), "fake/b"],
        targets=Targets(max_query_ms=50),
        sample_size=40,
        lexical=False,
    )
    spiky = next(r for r in report.results if r.candidate.label == "fake/spiky")
    assert spiky.dropped is None, spiky.dropped
    assert spiky.latency["retimed"] is True
    assert spiky.query_p95_ms < 50 and spiky.meets_targets
    assert any("Re-measured the latency of fake/spiky once" in n for n in report.notes)


def test_a_latency_clearly_over_the_target_is_dropped() -> None:
    report = quiet_probe(
        documents=docs(120),
        candidates=[FakeAdapter("slow", latency_ms=20), "fake/b"],
        targets=Targets(max_query_ms=5),
        sample_size=40,
        lexical=False,
    )
    slow = next(r for r in report.results if r.candidate.label == "fake/slow")
    assert slow.dropped is not None and "query p95" in slow.dropped
    assert not slow.latency["retimed"]


class Watching(FakeAdapter):
    """Records, at each ``embed_query``, whether an abandoned probe worker still runs."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.state: dict[str, list[bool]] = {"beside": []}

    def embed_query(self, text: str) -> Any:
        me = threading.current_thread()
        others = [t for t in threading.enumerate() if t.name == THREAD_NAME and t is not me]
        self.state["beside"].append(any(t.is_alive() for t in others))
        return super().embed_query(text)


def _stage() -> Stage:
    rows = docs(8)
    pool = [ProbeDoc(i, t) for i, t in rows]
    return Stage(pool, [ProbeQuery(t.split(".")[0], frozenset({i}), "labelled") for i, t in rows])


def test_latency_is_not_timed_beside_an_abandoned_worker() -> None:
    # today: the next model's queries are timed while the abandoned one still runs
    with pytest.raises(TimeoutError):
        run_with_timeout(lambda: time.sleep(0.4), timeout=0.02)  # no cancel check: runs on
    adapter = Watching("w")
    model = Model(adapter)
    measure(model, [Candidate("fake/w")], _stage(), [], first=True)
    assert adapter.state["beside"] and not any(adapter.state["beside"])
    assert model.latency_contended is False


def test_latency_timed_beside_an_abandoned_worker_is_marked_contended() -> None:
    # inside a short time box the wait is cut to a quarter of the box: timed beside, and said so
    with pytest.raises(TimeoutError):
        run_with_timeout(lambda: time.sleep(0.6), timeout=0.02)
    model = Model(FakeAdapter("c"))
    stage = _stage()
    run_with_timeout(
        lambda: measure(model, [Candidate("fake/c")], stage, [], first=True), timeout=0.4
    )
    assert model.latency_contended is True
    time.sleep(0.6)  # let the abandoned sleeper end before the next test
