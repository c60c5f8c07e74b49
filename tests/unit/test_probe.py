"""Unit tests of the probe engine on fake adapters over a real embedded Chroma."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

from autoembedding.adapters import get_adapter
from autoembedding.adapters.fake import FakeAdapter
from autoembedding.candidates import Candidate, Targets
from autoembedding.errors import CollectionError, NoCandidateError, UnknownModelError
from autoembedding.probe import CHARS_PER_TOKEN, ProbeWarning, probe
from autoembedding.probe.engine import Engine
from autoembedding.probe.queries import ProbeDoc, ProbeQuery
from autoembedding.probe.sampling import auto_doc_chars, cut_doc
from autoembedding.probe.stages import Stage
from autoembedding.probe.timebox import THREAD_NAME, run_with_timeout

chromadb = pytest.importorskip("chromadb")


def make_docs(n: int = 120, seed: int = 0) -> list[tuple[str, str]]:
    """Documents of five sentences each over a document-specific vocabulary (ICT can work)."""
    rng = random.Random(seed)
    vocab = [f"term{i}" for i in range(4000)]
    docs = []
    for d in range(n):
        words = rng.sample(vocab, 40)
        sentences = [" ".join(rng.sample(words, 8)).capitalize() + "." for _ in range(5)]
        docs.append((f"d{d:04d}", " ".join(sentences)))
    return docs


def make_collection(path, docs, name: str = "docs", *, with_documents: bool = True):
    client = chromadb.PersistentClient(path=str(path))
    col = client.create_collection(name, metadata={"owner": "tests"}, embedding_function=None)
    vectors = FakeAdapter("store").embed_documents([t for _, t in docs])
    col.add(
        ids=[i for i, _ in docs],
        embeddings=vectors.tolist(),
        documents=[t for _, t in docs] if with_documents else None,
    )
    return col


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    return make_collection(tmp_path_factory.mktemp("chroma"), make_docs())


def test_good_wins_noisy_slow_crash_hang_reported_and_collection_untouched(collection):
    before_count, before_meta = collection.count(), dict(collection.metadata)
    before = collection.get(ids=["d0000", "d0077"], include=["documents", "embeddings"])
    report = probe(
        collection,
        candidates=[
            FakeAdapter("good"),
            FakeAdapter("noisy", noise=0.9),
            FakeAdapter("slow", latency_ms=30),
            FakeAdapter("crash", fail_after_calls=1),
            FakeAdapter("hang", hang_s=6),
        ],
        targets=Targets(max_query_ms=25),
        candidate_timeout_s=3.0,
    )
    by = {r.candidate.label: r for r in report.results}
    assert report.winner is not None and report.winner.candidate.label == "fake/good"
    assert report.results[0] is report.winner
    assert by["fake/noisy"].metrics["ndcg@10"] < by["fake/good"].metrics["ndcg@10"] - 0.2
    assert "max_query_ms" in by["fake/slow"].failed_targets
    assert by["fake/slow"].query_p95_ms > 25
    assert "failed on purpose" in by["fake/crash"].error
    assert "timed out" in by["fake/hang"].error
    assert "highest nDCG@10" in report.reason
    good = by["fake/good"]
    lo, hi = good.intervals["ndcg@10"]
    assert lo <= good.metrics["ndcg@10"] <= hi
    assert good.bytes_per_vector == 64 * 4 and good.dim == 64
    assert good.docs_per_s > 0 and good.load_s is not None and good.query_p50_ms is not None
    assert report.query_kind == "label-free" and report.n_queries > 0
    # never written to
    assert collection.count() == before_count
    assert dict(collection.metadata) == before_meta
    after = collection.get(ids=["d0000", "d0077"], include=["documents", "embeddings"])
    assert after["documents"] == before["documents"]
    np.testing.assert_array_equal(np.asarray(after["embeddings"]), np.asarray(before["embeddings"]))


def test_same_seed_same_report_other_seed_other_sample(collection):
    args = dict(candidates=["fake/a", "fake/a@16:int8"], sample_size=60, n_queries=20)
    one, two = probe(collection, **args, seed=3), probe(collection, **args, seed=3)
    three = probe(collection, **args, seed=4)
    for a, b in zip(one.results, two.results, strict=True):
        assert a.candidate == b.candidate
        assert a.metrics == b.metrics
        np.testing.assert_array_equal(a.per_query["ndcg@10"], b.per_query["ndcg@10"])
    assert [r.metrics for r in one.results] != [r.metrics for r in three.results]


def test_variants_derived_from_one_encoding(collection):
    report = probe(
        collection,
        candidates=["fake/v", "fake/v@16", "fake/v:int8", "fake/v@32:binary"],
        sample_size=40,
        n_queries=12,
    )
    by = {r.candidate.label: r for r in report.results}
    assert {k: v.bytes_per_vector for k, v in by.items()} == {
        "fake/v": 256.0,
        "fake/v@16": 64.0,
        "fake/v:int8": 64.0,
        "fake/v@32:binary": 4.0,
    }
    assert by["fake/v@16"].dim == 16
    # one underlying run: the same throughput and load measurement for every variant
    assert len({r.docs_per_s for r in by.values() if r.dropped is None}) == 1
    assert len({r.load_s for r in by.values()}) == 1
    # variants really post-process: truncation changes the scores
    assert not np.array_equal(by["fake/v"].per_query["mrr@10"], by["fake/v@16"].per_query["mrr@10"])


def test_targets_nothing_can_meet(collection):
    report = probe(
        collection,
        candidates=["fake/a", "fake/b"],
        targets=Targets(max_bytes_per_vector=8, min_hit_at_5=0.999),
        sample_size=40,
        n_queries=12,
    )
    assert report.winner is None
    assert "No candidate meets every target" in report.reason
    assert "max_bytes_per_vector" in report.reason and "by 248" in report.reason
    assert all(not r.meets_targets for r in report.results)


def test_budget_stops_growing_the_sample(collection):
    report = probe(
        collection,
        candidates=[FakeAdapter("x", latency_ms=5), FakeAdapter("y", latency_ms=5)],
        budget_s=0.05,
        sample_size=120,
    )
    assert report.n_docs < 120
    assert any("Stopped after stage 1" in n for n in report.notes)


def test_labelled_queries_fetch_relevant_docs_outside_sample(collection):
    docs = dict(make_docs())
    # a query made of words of d0100's first sentence; sample_size small so it may be unsampled
    pairs = [(docs[f"d{i:04d}"].split(".")[0], [f"d{i:04d}"]) for i in range(100, 112)]
    pairs.append(("nothing relevant exists", ["no-such-id"]))
    with pytest.warns(ProbeWarning, match="1 of 13 labelled queries"):
        report = probe(collection, candidates=["fake/a"], queries=pairs, sample_size=20)
    assert report.query_kind == "labelled" and report.n_queries == 12
    assert report.results[0].metrics["hit@5"] > 0.8


def test_beir_paths(collection, tmp_path):
    docs = dict(make_docs())
    qpath, rpath = tmp_path / "queries.jsonl", tmp_path / "qrels.tsv"
    qpath.write_text(
        "".join(
            f'{{"_id": "q{i}", "text": "{docs[f"d{i:04d}"].split(".")[1].strip()}"}}\n'
            for i in range(10)
        )
    )
    rpath.write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"q{i}\td{i:04d}\t1\n" for i in range(10))
    )
    report = probe(collection, candidates=["fake/a"], queries=(str(qpath), str(rpath)))
    assert report.query_kind == "labelled" and report.n_queries == 10
    assert report.winner is not None


def test_documents_without_collection_and_progress_callable():
    seen: list[tuple[str, float]] = []
    texts = [t for _, t in make_docs(40)]
    report = probe(
        documents=texts, candidates=["fake/a"], progress=lambda m, f: seen.append((m, f))
    )
    assert report.winner is not None and report.collection is None
    assert seen and seen[-1][1] == 1.0
    assert all(0.0 <= f <= 1.0 for _, f in seen)


def test_empty_collection(tmp_path):
    client = chromadb.PersistentClient(path=str(tmp_path))
    col = client.create_collection("empty", embedding_function=None)
    with pytest.raises(CollectionError, match="'empty' is empty"):
        probe(col, candidates=["fake/a"])


def test_embeddings_only_collection(tmp_path):
    col = make_collection(tmp_path, make_docs(20), "vecs", with_documents=False)
    with pytest.raises(CollectionError, match="no document texts"):
        probe(col, candidates=["fake/a"])
    assert col.count() == 20


def test_fewer_documents_than_sample_warns_and_uses_all(tmp_path):
    col = make_collection(tmp_path, make_docs(30), "small")
    with pytest.warns(ProbeWarning, match="only 30 are there"):
        report = probe(col, candidates=["fake/a", "fake/b"], sample_size=500)
    assert 0 < report.n_docs <= 30 and report.winner is not None


def test_documents_too_short_for_queries():
    words = [f"word{i}" for i in range(30)]
    with pytest.raises(
        CollectionError, match="Cannot build label-free probe queries from these documents"
    ):
        probe(documents=words, candidates=["fake/a"])


def test_one_document_repeated(tmp_path):
    col = make_collection(
        tmp_path, [(f"id{i}", "The same text. Again and again. Forever.") for i in range(25)], "rep"
    )
    with pytest.raises(CollectionError, match="same text repeated"):
        probe(col, candidates=["fake/a"])


def test_no_candidate_available(collection, monkeypatch):
    import autoembedding.probe as probe_module

    monkeypatch.setattr(probe_module, "default_candidates", lambda: [])
    with pytest.raises(NoCandidateError, match="No candidate model is available"):
        probe(collection)
    with pytest.raises(NoCandidateError):
        probe(collection, candidates=[])


def test_failing_candidate_is_an_error_result_not_a_crash(collection):
    broken = FakeAdapter("broken", fail_after_calls=0)
    report = probe(collection, candidates=["fake/a", broken], sample_size=40, n_queries=10)
    by = {r.candidate.label: r for r in report.results}
    assert by["fake/broken"].error and "BackendError" in by["fake/broken"].error
    assert report.winner is not None and report.winner.candidate.label == "fake/a"


def test_unknown_candidate_is_refused_before_any_work(collection):
    with pytest.raises(UnknownModelError, match="no/such-model"):
        probe(collection, candidates=["fake/a", Candidate("no/such-model")], sample_size=40)


def test_timed_out_candidate_is_reported_and_the_others_still_get_results(collection):
    hang_s = 30.0  # the fake sleeps this long in every encode call (far above the probe time)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = probe(
            collection,
            candidates=[FakeAdapter("h", hang_s=hang_s), "fake/a", "fake/b"],
            candidate_timeout_s=0.3,
            sample_size=40,
        )
    by = {r.candidate.label: r for r in report.results}
    assert by["fake/h"].error is not None
    assert by["fake/h"].error.startswith("TimeoutError: timed out after 0.3 s (abandoned")
    assert by["fake/h"].metrics == {} and by["fake/h"].load_s is None
    # the probe waited for the time box, not for the hanging model's first encode call
    assert report.seconds < hang_s
    for label in ("fake/a", "fake/b"):
        assert by[label].error is None and by[label].metrics["ndcg@10"] > 0.3
    assert report.winner is not None and report.winner.candidate.label in ("fake/a", "fake/b")
    # the abandoned worker still runs, as a daemon thread (it cannot block the process's exit)
    workers = [t for t in threading.enumerate() if t.name == THREAD_NAME]
    assert workers and all(t.daemon for t in workers)


def test_run_with_timeout_returns_raises_and_abandons():
    assert run_with_timeout(lambda: 42, timeout=5.0) == 42
    with pytest.raises(KeyError, match="inside"):
        run_with_timeout(lambda: {}["inside"], timeout=5.0)
    release = threading.Event()
    start = time.perf_counter()
    with pytest.raises(TimeoutError, match=r"timed out after 0\.1 s"):
        run_with_timeout(lambda: release.wait(30.0), timeout=0.1)
    assert time.perf_counter() - start < 5.0
    release.set()


def test_an_abandoned_worker_does_not_block_process_exit():
    code = (
        "from autoembedding.adapters.fake import FakeAdapter\n"
        "from autoembedding.probe import probe\n"
        "docs = [f'Alpha {i} beta {i} gamma. Delta {i} epsilon zeta {i}. Eta {i} theta.' "
        "for i in range(30)]\n"
        "r = probe(documents=docs, candidates=[FakeAdapter('h', hang_s=120.0), 'fake/a'],"
        " candidate_timeout_s=0.2)\n"
        "print([x.error for x in r.results if x.candidate.label == 'fake/h'][0])\n"
    )
    # a worker blocking the exit would sleep 120 s and overrun the 60 s limit
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "TimeoutError: timed out after 0.2 s" in done.stdout


def test_bytes_target_adds_cheap_variants_to_default_candidates(collection, monkeypatch):
    import autoembedding.probe as probe_module

    monkeypatch.setattr(probe_module, "default_candidates", lambda: [Candidate("fake/d")])
    report = probe(
        collection, targets=Targets(max_bytes_per_vector=64), sample_size=40, lexical=False
    )
    labels = {r.candidate.label for r in report.results}
    assert labels == {"fake/d", "fake/d:int8", "fake/d:binary"}
    assert report.winner is not None and report.winner.bytes_per_vector <= 64
    assert "max_bytes_per_vector" in {
        k for r in report.results if r.candidate.label == "fake/d" for k in r.failed_targets
    }


@pytest.mark.parametrize(
    "dim,precision", [(32, "int8"), (None, "int8"), (16, "binary"), (None, "float32")]
)
def test_engine_variant_vectors_equal_a_directly_built_adapter(dim, precision):
    texts = ["alpha beta gamma", "delta epsilon", "alpha delta zeta eta", ""]
    options = (("document_prompt", "passage: "),)
    cand = Candidate("fake/q", dim, precision, options)
    engine = Engine([(cand, None), (Candidate("fake/q", None, "float32", options), None)], 60, 0)
    pool = [ProbeDoc(f"d{i}", text) for i, text in enumerate(texts)]
    engine.run_stage(
        Stage(pool, [ProbeQuery("alpha", frozenset({"d0"}), "labelled")]), [], first=True
    )
    (model,) = engine.models.values()  # both candidates share one model run
    got = model.views[cand.label].postprocess(np.concatenate(model.doc_raw))
    direct = get_adapter(
        "fake/q", truncate_dim=dim, precision=precision, document_prompt="passage: "
    )
    np.testing.assert_allclose(got, direct.embed_documents(texts), atol=1e-6)
    assert engine.results[cand.label].bytes_per_vector == direct.bytes_per_vector
    assert engine.results[cand.label].dim == direct.dim


def test_labelled_queries_sharing_a_relevant_doc_across_stages(collection):
    docs = dict(make_docs())
    sentences = docs["d0005"].split(".")[:5]
    pairs = [(f"{sentences[i % 5]} {i}", ["d0005"]) for i in range(24)]
    # two identical models: always tied, so every stage runs
    report = probe(collection, candidates=["fake/a", "fake/a@64"], queries=pairs, sample_size=40)
    assert report.n_queries == 24
    assert all(len(r.per_query["hit@5"]) == 24 for r in report.results)


def test_cut_doc_word_boundary_and_unspaced_scripts():
    english = cut_doc(ProbeDoc("e", "alpha beta gamma " * 100), 100)
    assert len(english.text) <= 100 and english.text.endswith(("alpha", "beta", "gamma"))
    chinese = cut_doc(ProbeDoc("z", "战国无双系列的正统第三续作。" * 50), 300)
    assert len(chinese.text) == 100  # a third: about one token per character
    short = ProbeDoc("s", "short text")
    assert cut_doc(short, 100) is short
    # an unspaced script written with spaces between words is still cut to a third
    spaced = cut_doc(ProbeDoc("w", "战国 无双 系列 的 正统 第三 续作。" * 50), 300)
    assert len(spaced.text) <= 100


def test_documents_are_cut_only_past_the_longest_candidate_window():
    short_reader = FakeAdapter("short")
    short_reader.spec = short_reader.spec.__class__(
        **{**short_reader.spec.__dict__, "id": "fake/short", "max_tokens": 64}
    )
    long_reader = FakeAdapter("long")
    assert auto_doc_chars([(Candidate("fake/short"), short_reader)]) == 64 * CHARS_PER_TOKEN
    both = [(Candidate("fake/short"), short_reader), (Candidate("fake/long"), long_reader)]
    assert auto_doc_chars(both) == 512 * CHARS_PER_TOKEN

    seen: list[str] = []

    class Recording(FakeAdapter):
        def _encode(self, texts, *, is_query):  # type: ignore[override]
            if not is_query:
                seen.extend(texts)
            return super()._encode(texts, is_query=is_query)

    sentence = "The enzyme {i} binds substrate number {i} in the cell. "
    docs = [(f"d{i}", "".join(sentence.format(i=f"{i}-{j}") for j in range(80))) for i in range(30)]
    assert all(len(text) > 3000 for _, text in docs)
    probe(documents=docs, candidates=[Recording("rec")], sample_size=30)
    assert max(len(t) for t in seen) > 2000  # far past the old 500-character cut
    assert max(len(t) for t in seen) <= 512 * CHARS_PER_TOKEN
