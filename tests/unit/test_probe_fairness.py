"""Issue 23: the probe's pools, ties and statistics are fair whatever the collection's shape.

Fake adapters over in-memory documents; each test fails on the probe before issue 23.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from autoembedding.adapters.fake import FakeAdapter
from autoembedding.selector.probing import probe
from autoembedding.selector.probing.stages import plan_stages


def _docs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = np.random.default_rng(seed)
    vocab = [f"term{i}" for i in range(3000)]
    out = []
    for d in range(n):
        words = list(rng.choice(vocab, 40, replace=False))
        sentences = [" ".join(rng.choice(words, 8)).capitalize() + "." for _ in range(5)]
        out.append((f"d{d:04d}", " ".join(sentences)))
    return out


class BrokenFake(FakeAdapter):
    """A fake whose vectors are all NaN (``mode="nan"``) or all the same (``"constant"``)."""

    def __init__(self, name: str, mode: str) -> None:
        super().__init__(name)
        self.mode = mode

    def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        out = super()._encode(texts, is_query=is_query)
        if self.mode == "nan":
            return np.full_like(out, np.nan)
        return np.ones_like(out) / np.sqrt(out.shape[1])


def _quiet_probe(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return probe(**kwargs)


def test_labelled_pools_do_not_list_the_relevant_documents_first():
    docs = [_doc for _doc in _docs(200)]
    from autoembedding.selector.probing.queries import ProbeDoc

    probe_docs = [ProbeDoc(id=i, text=t) for i, t in docs]
    labelled = [(f"query {k}", [f"d{k:04d}"]) for k in range(0, 200, 2)]
    stages, _ = plan_stages(probe_docs, labelled, None, 100, 0, None, [])
    for stage in stages:
        relevant = {i for q in stage.queries for i in q.relevant}
        head = [d.id for d in stage.pool[: len(relevant)]]
        # before: the stage's relevant documents came first, in id order
        assert sum(i in relevant for i in head) < 0.8 * len(head)


@pytest.mark.parametrize("mode", ["nan", "constant"])
def test_non_finite_or_constant_vectors_are_refused_naming_the_model(mode):
    report = _quiet_probe(
        documents=_docs(60), candidates=["fake/good", BrokenFake("broken", mode)], lexical=False
    )
    broken = next(r for r in report.results if r.candidate.label == "fake/broken")
    assert broken.error is not None and "fake/broken" in broken.error
    assert ("non-finite" if mode == "nan" else "same vector") in broken.error
    assert report.winner is not None and report.winner.candidate.label == "fake/good"


def test_fused_and_bm25_rankings_rank_tied_relevant_documents_last():
    from autoembedding.lexical.fusion import per_query_ndcg
    from autoembedding.selector.probing.hybrid import ranking_metrics

    tied = [{"rel": 1.0, "other": 1.0, "third": 0.5}]  # the relevant one listed first
    assert ranking_metrics(tied, [{"rel"}])["mrr@10"][0] == pytest.approx(0.5)
    assert per_query_ndcg(tied, [{"rel"}])[0] == pytest.approx(1 / np.log2(3))
