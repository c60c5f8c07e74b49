"""The probe's ``budget_s`` is hard: slow models and stages that would overrun it are cut.

Elapsed times are asserted with a generous margin (the machine may be loaded): the point is that
the cut happens, not a speed target.
"""

from __future__ import annotations

import threading
import time
import warnings

import numpy as np
import pytest

from autoembedding.adapters.fake import FakeAdapter
from autoembedding.candidates import Candidate
from autoembedding.probe import probe
from autoembedding.probe.engine import Engine
from autoembedding.probe.queries import ProbeDoc, ProbeQuery
from autoembedding.probe.stages import Stage

#: Slack on top of budget_s * 1.1 for a loaded machine (the probe itself is quick on fakes).
SLACK_S = 3.0


class SlowFake(FakeAdapter):
    """A fake model that sleeps ``per_text_s`` per text while ``state["slow"]`` is true.

    ``state`` is shared with the probe's views of the adapter (shallow copies).
    """

    def __init__(
        self, name: str, per_text_s: float, *, slow: bool = True, free_texts: int = 0
    ) -> None:
        super().__init__(name)
        self.per_text_s = per_text_s
        self.state = {"slow": slow, "free": free_texts}  # the first ``free_texts`` are quick

    def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        free = min(self.state["free"], len(texts))
        self.state["free"] -= free
        if self.state["slow"]:
            time.sleep(self.per_text_s * (len(texts) - free))
        return super()._encode(texts, is_query=is_query)


def _docs(n: int) -> list[tuple[str, str]]:
    rng = np.random.default_rng(0)
    vocab = [f"term{i}" for i in range(3000)]
    out = []
    for d in range(n):
        words = list(rng.choice(vocab, 40, replace=False))
        sentences = [" ".join(rng.choice(words, 8)).capitalize() + "." for _ in range(5)]
        out.append((f"d{d:04d}", " ".join(sentences)))
    return out


def _probe_fast_and(slow: SlowFake, budget_s: float):
    """A probe of ``fake/fast`` and ``slow`` on 60 documents, and its wall time."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = probe(
            documents=_docs(60), candidates=["fake/fast", slow], budget_s=budget_s, lexical=False
        )
    return report, time.perf_counter() - start


def test_a_model_too_slow_for_the_sample_is_skipped_after_its_first_documents() -> None:
    budget_s = 4.0
    slow = SlowFake("slow", per_text_s=0.5)  # 30 s for the 60-document sample
    report, elapsed = _probe_fast_and(slow, budget_s)
    assert elapsed <= budget_s * 1.1 + SLACK_S, elapsed
    by = {r.candidate.label: r for r in report.results}
    error = str(by["fake/slow"].error)
    assert "skipped for budget_s=4" in error and "60-document sample" in error, error
    assert "0.50 s a document, timed on 4" in error
    assert by["fake/slow"].metrics == {}
    assert report.winner is not None and report.winner.candidate.label == "fake/fast"
    assert any("fake/slow would not embed the whole sample" in n for n in report.notes)
    # it spent its calibration (4 x 0.5 s), not its share of the budget
    assert elapsed < 3.5 + SLACK_S, elapsed


def test_a_slow_model_is_cut_and_the_probe_returns_within_budget() -> None:
    budget_s = 4.0
    # quick on the documents it is timed on, then ~30 s for its first stage
    slow = SlowFake("slow", per_text_s=0.5, free_texts=4)
    report, elapsed = _probe_fast_and(slow, budget_s)
    assert elapsed <= budget_s * 1.1 + SLACK_S, elapsed
    by = {r.candidate.label: r for r in report.results}
    assert by["fake/slow"].error is not None
    assert "cut by budget_s=4" in by["fake/slow"].error
    assert by["fake/slow"].metrics == {}
    assert by["fake/fast"].error is None and by["fake/fast"].metrics["ndcg@10"] > 0.3
    assert report.winner is not None and report.winner.candidate.label == "fake/fast"
    assert any("fake/slow ran past its share" in note for note in report.notes), report.notes


def test_without_a_budget_the_same_slow_model_is_not_cut() -> None:
    slow = SlowFake("slow", per_text_s=0.002)
    report = probe(documents=_docs(30), candidates=["fake/fast", slow], lexical=False)
    assert all(r.error is None for r in report.results)


def test_fair_share_leaves_a_fast_models_time_to_the_slow_one() -> None:
    # the slow model sleeps ~3.8 s (30 docs, 30 queries, 16 latency queries x 0.05 s): more than
    # half of the 6 s budget, less than what the fast model (run first) leaves it
    slow = SlowFake("slow", per_text_s=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = probe(
            documents=_docs(30), candidates=["fake/fast", slow], budget_s=6.0, lexical=False
        )
    assert all(r.error is None for r in report.results), [r.error for r in report.results]


def _stage(docs: list[tuple[str, str]], query_doc: int) -> Stage:
    pool = [ProbeDoc(i, t) for i, t in docs]
    text = docs[query_doc][1].split(".")[0]
    return Stage(pool, [ProbeQuery(text, frozenset({docs[query_doc][0]}), "labelled")])


def test_a_later_stage_that_overruns_is_cut_whole_and_measures_are_kept() -> None:
    docs = _docs(40)
    slow = SlowFake("late", per_text_s=0.5, slow=False)  # quick in stage 1, slow after
    budget_s = 3.0
    start = time.perf_counter()
    engine = Engine(
        [(Candidate("fake/a"), None), (Candidate("fake/late"), slow)],
        60.0,
        0,
        deadline=start + budget_s,
        budget_s=budget_s,
    )
    assert engine.run_stage(_stage(docs[:20], 0), [], first=True) is None
    engine.score()
    before = {label: dict(r.metrics) for label, r in engine.results.items()}
    n_docs, n_queries = engine.n_docs, engine.n_queries
    slow.state["slow"] = True
    cut = engine.run_stage(_stage(docs[20:], 3), [], first=False)
    elapsed = time.perf_counter() - start
    assert cut is not None and "fake/late" in cut and "stage was cut" in cut
    assert elapsed <= budget_s * 1.1 + SLACK_S, elapsed
    # nothing of the cut stage is kept: same pool, same queries, same measures
    assert (engine.n_docs, engine.n_queries) == (n_docs, n_queries)
    engine.score()
    for label, result in engine.results.items():
        assert result.error is None
        assert result.metrics == pytest.approx(before[label])
    assert all(len(m.doc_raw) == 1 for m in engine.models.values())


def test_the_user_time_box_is_still_a_failure_not_a_budget_cut() -> None:
    slow = SlowFake("slow", per_text_s=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = probe(
            documents=_docs(30),
            candidates=["fake/fast", slow],
            budget_s=60.0,
            candidate_timeout_s=0.3,
            lexical=False,
        )
    by = {r.candidate.label: r for r in report.results}
    assert by["fake/slow"].error is not None
    assert by["fake/slow"].error.startswith("TimeoutError: timed out after 0.3 s")
    assert not any("ran past its share" in note for note in report.notes)


def _two_model_engine(budget_s: float) -> tuple[Engine, list[tuple[str, str]]]:
    """An engine with ``fake/fast`` and a slow fake (0.05 s a text) after its first stage."""
    docs = _docs(40)
    engine = Engine(
        [(Candidate("fake/fast"), None), (Candidate("fake/slow"), SlowFake("slow", 0.05))],
        60.0,
        0,
        deadline=time.perf_counter() + 60.0,
        budget_s=budget_s,
    )
    assert engine.run_stage(_stage(docs[:20], 0), [], first=True) is None
    engine.score()
    return engine, docs


def _lead(engine: Engine, label: str, behind: float = 0.4) -> None:
    """Make ``label`` lead the others by ``behind`` nDCG@10 on 40 paired (noisy) queries."""
    noise = np.random.default_rng(1).normal(0, 0.05, size=40)
    for other, result in engine.results.items():
        values = np.clip(0.9 + noise if other == label else 0.9 - behind + noise[::-1], 0, 1)
        result.per_query["ndcg@10"] = values
        result.metrics["ndcg@10"] = float(values.mean())


def test_a_slow_model_not_leading_leaves_the_race_when_the_next_stage_would_not_fit() -> None:
    engine, docs = _two_model_engine(budget_s=4.0)
    slow = next(m for m in engine.models.values() if m.variants[0].label == "fake/slow")
    assert slow.stage_docs == 20
    # ~1 s of documents; the 16 latency queries (~0.8 s) are not part of the prediction
    assert 0.9 <= slow.predict_s(20) <= 1.7, slow.stage_s
    _lead(engine, "fake/fast")
    stage = _stage(docs[20:], 3)
    engine.deadline = time.perf_counter() + 0.6 + 0.2  # 0.2 s of reserve (5% of 4 s)
    note = engine.fit_budget(stage)
    assert note is not None and "fake/slow" in note and "would not fit" in note
    by = engine.results
    assert by["fake/slow"].dropped is not None
    assert "dropped for budget_s=4" in by["fake/slow"].dropped
    assert "significantly behind the leader" in by["fake/slow"].dropped
    assert "measured on the first 20 documents only" in by["fake/slow"].dropped
    assert by["fake/fast"].dropped is None
    assert engine.predict_s(stage) < 0.6  # what is left fits: only fake/fast runs
    assert engine.run_stage(stage, [], first=False) is None
    assert engine.n_docs == 40
    assert [len(m.doc_raw) for m in engine.models.values()] == [2, 1]  # the slow one sat out


def test_a_slow_model_not_significantly_behind_is_not_dropped_for_the_budget() -> None:
    # issue 23, point 3: fit_budget dropped the slowest non-leader whatever the gap
    engine, docs = _two_model_engine(budget_s=4.0)
    _lead(engine, "fake/fast", behind=0.005)  # ahead, but not significantly
    stage = _stage(docs[20:], 3)
    engine.deadline = time.perf_counter() + 0.6 + 0.2
    note = engine.fit_budget(stage)
    assert all(r.dropped is None for r in engine.results.values())
    assert note is not None and "budget forced a cut" in note and "fake/slow" in note


def test_the_leaders_model_is_never_dropped_for_the_budget_the_race_stops_instead() -> None:
    from autoembedding.probe.race import budget_reason

    engine, docs = _two_model_engine(budget_s=4.0)
    _lead(engine, "fake/slow")
    stage = _stage(docs[20:], 3)
    engine.deadline = time.perf_counter() + 0.8
    note = engine.fit_budget(stage)
    assert note is not None and "budget forced a cut" in note
    assert all(r.dropped is None for r in engine.results.values())
    # the whole stage does not fit in the time left: the race stops after stage 1
    t0 = time.perf_counter() - 3.8
    assert "would overrun budget_s=4" in str(budget_reason(engine.predict_s(stage), 4.0, t0))
    assert budget_reason(engine.predict_s(stage), 60.0, t0) is None


def test_a_hybrid_of_a_model_dropped_for_the_budget_leaves_with_it() -> None:
    slow = SlowFake("slow", per_text_s=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        engine = Engine(
            [(Candidate("fake/fast"), None), (Candidate("fake/slow"), slow)],
            60.0,
            0,
            lexical=[Candidate("bm25")],
            auto_hybrids=True,
            deadline=time.perf_counter() + 60.0,
            budget_s=100.0,
        )
        docs = _docs(40)
        first = _stage(docs[:20], 0)
        for q in (1, 2, 5):  # a convex hybrid needs 2 queries or more
            first.queries += _stage(docs[:20], q).queries
        engine.run_stage(first, [], first=True)
        engine.score()
        assert engine.add_hybrids()
    _lead(engine, "hybrid:fake/fast+bm25")
    engine.deadline = time.perf_counter() + 2.0 + 0.6  # reserve: 2 s
    assert engine.fit_budget(_stage(docs[20:], 3)) is not None
    dropped = {label for label, r in engine.results.items() if r.dropped}
    assert dropped == {"fake/slow", "hybrid:fake/slow+bm25", "hybrid-rrf:fake/slow+bm25"}


# --------------------------------------------------------------------------- truncation warnings
class CuttingFake(FakeAdapter):
    """Says every text over 100 characters was cut to its max tokens (as ONNX/static count)."""

    def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        self._add_truncated(sum(1 for t in texts if len(t) > 100))
        return super()._encode(texts, is_query=is_query)


def test_truncation_during_a_probe_warns_once_per_model_at_the_callers_line() -> None:
    from autoembedding.errors import TruncationWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = probe(
            documents=_docs(40),
            candidates=[CuttingFake("cut", batch_size=4), "fake/whole"],
            lexical=False,
        )
    truncation = [w for w in caught if issubclass(w.category, TruncationWarning)]
    assert len(truncation) == 1, [str(w.message) for w in truncation]
    (w,) = truncation
    assert w.filename == __file__  # the probe(...) line above, not timebox.py or base.py
    count = int(str(w.message).split()[0])
    # every pool document is over 100 characters: all batches of every call are counted
    assert count >= report.n_docs > 4
    assert "fake/cut" in str(w.message) and "during the probe" in str(w.message)


def test_a_cut_model_stops_at_its_next_batch() -> None:
    from autoembedding.probe.timebox import THREAD_NAME

    slow = SlowFake("slow", per_text_s=0.1, free_texts=4)  # passes the calibration
    slow.batch_size = 2  # steps of 4 texts: ~0.4 s of work left after the cut
    before = set(threading.enumerate())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = probe(
            documents=_docs(60), candidates=["fake/fast", slow], budget_s=2.0, lexical=False
        )
    assert "cut by budget_s=2" in str({r.candidate.label: r.error for r in report.results})
    deadline = time.monotonic() + 10.0  # without the stop it would sleep ~15 s more
    workers = [t for t in set(threading.enumerate()) - before if t.name == THREAD_NAME]
    for worker in workers:
        worker.join(max(deadline - time.monotonic(), 0.0))
    assert not any(t.is_alive() for t in workers)


def test_the_calibration_scales_by_the_length_of_the_documents() -> None:
    """Four short documents timed first must not make long ones look cheap (e5 on SciFact)."""
    from autoembedding.probe.measure import predict_doc_s

    head = ["x" * 100] * 4
    pool = head + ["y" * 1000] * 96
    per_doc = predict_doc_s(2.0, head, pool)
    assert per_doc == pytest.approx(0.5 * (4 * 101 + 96 * 1001) / 100 / 101)  # ~9.7x the head's
    # Past the model's token limit the model truncates, so length stops counting.
    capped = predict_doc_s(2.0, head, pool, max_tokens=50)  # 200 characters
    assert capped == pytest.approx(0.5 * (4 * 101 + 96 * 201) / 100 / 101)
    assert predict_doc_s(2.0, head, head) == pytest.approx(0.5)
