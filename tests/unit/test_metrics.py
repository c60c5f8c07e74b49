"""Metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autoembedding.metrics import (
    METRIC_NAMES,
    bootstrap_ci,
    first_relevant_rank,
    kendall_tau,
    paired_pvalue,
    per_query_metrics,
)

IDS = ["a", "b", "c", "d", "e"]


def test_metric_names_are_the_documented_ones():
    assert METRIC_NAMES == ("hit@1", "hit@3", "hit@5", "recall@10", "mrr@10", "ndcg@10")


def test_single_relevant_at_rank_two():
    scores = np.array([[0.9, 0.8, 0.1, 0.0, -0.2]])  # ranking a, b, c, d, e
    m = per_query_metrics(scores, IDS, [{"b"}])
    assert m["hit@1"][0] == 0.0
    assert m["hit@3"][0] == 1.0
    assert m["hit@5"][0] == 1.0
    assert m["recall@10"][0] == 1.0
    assert m["mrr@10"][0] == pytest.approx(0.5)
    assert m["ndcg@10"][0] == pytest.approx(1 / math.log2(3))


def test_two_relevant_ndcg_and_recall():
    # ranking: e, d, c, b, a; relevant c (rank 3) and a (rank 5)
    scores = np.array([[0.1, 0.2, 0.3, 0.4, 0.5]])
    m = per_query_metrics(scores, IDS, [{"c", "a"}])
    dcg = 1 / math.log2(4) + 1 / math.log2(6)
    idcg = 1 / math.log2(2) + 1 / math.log2(3)
    assert m["ndcg@10"][0] == pytest.approx(dcg / idcg)
    assert m["mrr@10"][0] == pytest.approx(1 / 3)
    assert m["hit@1"][0] == 0.0 and m["hit@3"][0] == 1.0
    assert m["recall@10"][0] == 1.0


def test_relevant_outside_pool_counts_in_recall_and_ideal():
    scores = np.array([[1.0, 0.0, 0.0, 0.0, 0.0]])
    m = per_query_metrics(scores, IDS, [{"a", "zzz"}])
    assert m["recall@10"][0] == pytest.approx(0.5)
    assert m["ndcg@10"][0] == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_relevant_beyond_rank_ten_scores_zero():
    ids = [str(i) for i in range(12)]
    scores = -np.arange(12, dtype=float)[None, :]  # doc i at rank i+1
    m = per_query_metrics(scores, ids, [{"11"}])
    assert all(m[name][0] == 0.0 for name in METRIC_NAMES)


def test_ties_rank_relevant_documents_last():
    # issue 23, point 2: an all-zero score matrix found the relevant document first when the
    # pool listed it first (a stable sort); ties now rank relevant documents last.
    scores = np.zeros((1, 5))
    m = per_query_metrics(scores, IDS, [{"a"}])
    assert m["hit@1"][0] == 0.0
    assert m["mrr@10"][0] == pytest.approx(1 / 5)
    m = per_query_metrics(scores, IDS, [{"e"}])
    assert m["mrr@10"][0] == pytest.approx(1 / 5)
    assert first_relevant_rank(scores, IDS, [{"a"}]).tolist() == [5]
    # a tie with one other document only: the relevant one ranks second, not first
    m = per_query_metrics(np.array([[0.9, 0.9, 0.1, 0.0, 0.0]]), IDS, [{"a"}])
    assert m["mrr@10"][0] == pytest.approx(1 / 2)


def test_a_non_finite_row_finds_nothing_by_position():
    # issue 23, point 2: an all-NaN row got hit@1 = 1 when the relevant document was first
    m = per_query_metrics(np.full((1, 5), np.nan), IDS, [{"a"}])
    assert m["hit@1"][0] == 0.0 and m["mrr@10"][0] == pytest.approx(1 / 5)
    m = per_query_metrics(np.array([[np.nan, 0.1, 0.2, 0.3, 0.4]]), IDS, [{"a"}])
    assert m["hit@5"][0] == 1.0 and m["hit@3"][0] == 0.0  # NaN ranks below every score


def test_empty_relevant_set_scores_zero_and_shapes_checked():
    m = per_query_metrics(np.eye(2, 5), IDS, [set(), {"b"}])
    assert m["hit@1"].tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="columns"):
        per_query_metrics(np.ones((1, 4)), IDS, [{"a"}])
    with pytest.raises(ValueError, match="rows"):
        per_query_metrics(np.ones((2, 5)), IDS, [{"a"}])


def test_bootstrap_ci_brackets_the_mean_and_is_reproducible():
    rng = np.random.default_rng(1)
    values = rng.random(200)
    low, high = bootstrap_ci(values, seed=3)
    assert low < values.mean() < high
    assert high - low < 0.2
    assert bootstrap_ci(values, seed=3) == (low, high)
    assert bootstrap_ci([7.0]) == (7.0, 7.0)
    low, high = bootstrap_ci([0.7])
    assert low < 0.7 < high  # one query says little: not a zero-width interval


def test_intervals_at_the_ceiling_are_not_degenerate():
    # issue 23, point 3: 100 queries all at 1 gave the interval (1, 1)
    low, high = bootstrap_ci(np.ones(100))
    assert high == 1.0 and 0.95 < low < 0.97  # Wilson's 95% lower bound for 100 of 100: 0.963
    low, high = bootstrap_ci(np.zeros(100))
    assert low == 0.0 and 0.03 < high < 0.05
    values = np.random.default_rng(0).uniform(0.2, 0.8, size=100)
    assert bootstrap_ci(values) == bootstrap_ci(values)  # inside (0, 1): the plain bootstrap
    assert all(math.isnan(x) for x in bootstrap_ci([]))
    with pytest.raises(ValueError):
        bootstrap_ci(values, level=1.5)


def test_paired_pvalue_detects_a_consistent_difference_and_not_noise():
    rng = np.random.default_rng(0)
    base = rng.random(100)
    assert paired_pvalue(base + 0.2, base) < 0.01
    assert paired_pvalue(base, base) == 1.0
    noise = rng.normal(0, 0.1, 100)
    assert paired_pvalue(base + noise, base - noise[::-1]) > 0.05
    with pytest.raises(ValueError):
        paired_pvalue([1, 2], [1])


def test_kendall_tau_hand_values():
    assert kendall_tau([1, 2, 3, 4], [1, 2, 3, 4]) == pytest.approx(1.0)
    assert kendall_tau([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # one discordant pair of six
    assert kendall_tau([1, 2, 3, 4], [1, 2, 4, 3]) == pytest.approx(4 / 6)
    assert math.isnan(kendall_tau([1, 1, 1], [1, 2, 3]))
    assert math.isnan(kendall_tau([1], [2]))
    # tau-b with ties: C=3, D=0 over 6 pairs, 1 pair tied in a, 3 tied in b: 3 / sqrt(5 * 3)
    assert kendall_tau([1, 2, 2, 4], [1, 3, 3, 3]) == pytest.approx(3 / math.sqrt(15))
    with pytest.raises(ValueError, match="equal lengths"):
        kendall_tau([1, 2], [1, 2, 3])


def test_paired_upper_bound_widens_with_noise_and_needs_queries():
    from autoembedding.metrics import paired_upper_bound

    a = np.linspace(0.2, 0.9, 100)
    steady = a - 0.01
    noisy = a - 0.01 + np.where(np.arange(100) % 2 == 0, 0.3, -0.3)
    tight = paired_upper_bound(a, steady)
    wide = paired_upper_bound(a, noisy)
    assert tight == pytest.approx(0.01)
    assert wide > 0.05  # 0.01 + 1.66 * 0.3 / 10
    assert paired_upper_bound([0.5, 0.6], [0.4, 0.5]) == float("inf")
    with pytest.raises(ValueError):
        paired_upper_bound([0.1, 0.2, 0.3], [0.1, 0.2])


def test_paired_upper_bound_uses_the_exact_t_quantile():
    from autoembedding.metrics import paired_upper_bound

    # differences 0.1, 0.2, 0.3, 0.4: mean 0.25, sd 0.129099; t(0.95, 3 df) = 2.3534 (tables)
    bound = paired_upper_bound([0.1, 0.2, 0.3, 0.4], [0.0, 0.0, 0.0, 0.0])
    assert bound == pytest.approx(0.25 + 2.3534 * 0.1290994 / 2, abs=1e-4)
    # t(0.975, 3 df) = 3.1824
    bound = paired_upper_bound([0.1, 0.2, 0.3, 0.4], [0.0] * 4, level=0.975)
    assert bound == pytest.approx(0.25 + 3.1824 * 0.1290994 / 2, abs=1e-4)
    with pytest.raises(ValueError, match="level"):
        paired_upper_bound([0.1, 0.2, 0.3], [0.0] * 3, level=0.4)
