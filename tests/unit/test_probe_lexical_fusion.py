"""Hybrid scoring in the probe (probing.hybrid): RRF, out-of-fold convex weights, rankings."""

from __future__ import annotations

import numpy as np
import pytest

from autoembedding.lexical import convex, per_query_ndcg
from autoembedding.lexical.fusion import DEFAULT_GRID
from autoembedding.probe.hybrid import (
    lexical_rankings,
    ranking_metrics,
    score_hybrid,
    top_rankings,
)

IDS = [f"d{i}" for i in range(20)]
LONE = 9  # the one query only BM25 answers


def lone_lexical_case() -> tuple[np.ndarray, np.ndarray, list[frozenset[str]]]:
    """Nine queries that need a dense weight >= 0.7 and one (``LONE``) that needs < 0.5."""
    rng = np.random.default_rng(0)
    n = 10
    dense = rng.uniform(0.0, 0.5, size=(n, 20))
    lexical = np.zeros((n, 20))
    relevant = []
    for q in range(n):
        relevant.append(frozenset({f"d{q}"}))
        if q == LONE:
            dense[q] = rng.uniform(0.9, 1.0, size=20)
            dense[q, q] = 0.0  # the dense model puts it last
            lexical[q, q] = 10.0  # BM25 finds only it
        else:
            dense[q, q] = 1.0  # the dense model finds it
            lexical[q, q + 10] = 10.0  # BM25 prefers a wrong document
            lexical[q, (q + 11) % 20] = 1.0
    return dense, lexical, relevant


def test_convex_scores_every_query_with_a_weight_chosen_without_it():
    dense, lexical, relevant = lone_lexical_case()
    scored = score_hybrid(
        "convex", dense, lexical, IDS, relevant, labels=("fake/a", "bm25"), seed=3
    )
    info = scored.details
    assert info["out_of_fold"] is True and info["folds"] == 5
    d_rank, l_rank = top_rankings(dense, IDS, 100), top_rankings(lexical, IDS, 100, positive=True)
    # ndcg[g, q]: query q fused at grid weight g
    grid = np.stack(
        [
            per_query_ndcg([convex(d, x, w) for d, x in zip(d_rank, l_rank, strict=True)], relevant)
            for w in DEFAULT_GRID
        ]
    )
    # LONE would score 1.0 with a weight below 0.5, but the other folds choose >= 0.7 for it
    assert grid[:5, LONE].max() == 1.0
    assert scored.per_query["ndcg@10"][LONE] == 0.0
    assert all(w >= 0.7 for w in info["fold_weights"])
    assert info["weight"] >= 0.7
    # the parts' own per-query values on the same queries are kept for the paired test
    assert scored.part_ndcg["bm25"][LONE] == 1.0 and scored.part_ndcg["fake/a"][LONE] == 0.0
    assert scored.part_ndcg["fake/a"][:LONE].tolist() == [1.0] * LONE


def test_out_of_fold_values_match_a_brute_force_leave_fold_out_choice():
    rng = np.random.default_rng(7)
    dense = rng.uniform(size=(12, 20))
    lexical = np.where(rng.uniform(size=(12, 20)) > 0.6, rng.uniform(0, 10, size=(12, 20)), 0.0)
    relevant = [frozenset({f"d{int(i)}"}) for i in rng.integers(0, 20, size=12)]
    scored = score_hybrid("convex", dense, lexical, IDS, relevant, labels=("a", "bm25"), seed=1)
    d_rank, l_rank = top_rankings(dense, IDS, 100), top_rankings(lexical, IDS, 100, positive=True)
    grid = np.stack(
        [
            per_query_ndcg([convex(d, x, w) for d, x in zip(d_rank, l_rank, strict=True)], relevant)
            for w in DEFAULT_GRID
        ]
    )
    folds = np.array_split(np.random.default_rng(1).permutation(12), 5)
    for members in folds:
        held = np.zeros(12, dtype=bool)
        held[members] = True
        best = int(np.argmax(grid[:, ~held].mean(axis=1)))  # chosen without the held queries
        np.testing.assert_allclose(scored.per_query["ndcg@10"][held], grid[best, held])


def test_rrf_hybrid_and_rankings():
    dense, lexical, relevant = lone_lexical_case()
    scored = score_hybrid("rrf", dense, lexical, IDS, relevant, labels=("a", "bm25"))
    assert scored.details == {"fusion": "rrf", "depth": 50, "k": 60}
    assert scored.per_query["ndcg@10"].shape == (10,)
    assert scored.fusion_ms and all(ms >= 0 for ms in scored.fusion_ms)
    with pytest.raises(ValueError, match="unknown fusion"):
        score_hybrid("max", dense, lexical, IDS, relevant, labels=("a", "bm25"))
    with pytest.raises(ValueError, match="at least 2"):
        score_hybrid("convex", dense[:1], lexical[:1], IDS, relevant[:1], labels=("a", "bm25"))


def test_bm25_rankings_hold_only_matching_documents():
    scores = np.array([[0.0, 2.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    ids = ["a", "b", "c", "d"]
    assert lexical_rankings(scores, ids) == [{"b": 2.0, "d": 1.0}, {}]
    # "a" is first in pool order, but not retrieved: an unmatched document never counts as a hit
    metrics = ranking_metrics(lexical_rankings(scores, ids), [{"d"}, {"a"}])
    assert metrics["hit@1"].tolist() == [0.0, 0.0]
    assert metrics["hit@3"].tolist() == [1.0, 0.0]
    assert metrics["mrr@10"].tolist() == [0.5, 0.0]
