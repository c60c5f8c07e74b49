"""RRF, convex fusion and the cross-validated convex weight, on hand-checkable rankings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autoembedding.lexical import choose_convex_weight, convex, minmax, per_query_ndcg, rrf


def test_rrf_sums_reciprocal_ranks_with_k_60():
    fused = rrf([{"a": 0.9, "b": 0.5}, {"b": 3.0, "c": 1.0}])
    assert fused == pytest.approx({"b": 1 / 62 + 1 / 61, "a": 1 / 61, "c": 1 / 62})
    assert list(fused) == ["b", "a", "c"]


def test_rrf_ranks_by_score_not_by_dict_order_and_honours_k():
    fused = rrf([{"low": 1.0, "high": 5.0}], k=0)
    assert fused == pytest.approx({"high": 1.0, "low": 0.5})
    assert list(fused) == ["high", "low"]


def test_rrf_of_nothing_is_empty():
    assert rrf([]) == {} and rrf([{}, {}]) == {}


def test_minmax():
    assert minmax({"a": 10.0, "b": 5.0, "c": 0.0}) == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert minmax({"a": 3.0, "b": 3.0}) == {"a": 1.0, "b": 1.0}
    assert minmax({}) == {}


def test_convex_mixes_normalised_scores():
    dense = {"a": 0.9, "b": 0.5, "c": 0.1}  # -> a 1, b .5, c 0
    lexical = {"c": 12.0, "b": 7.0, "d": 2.0}  # -> c 1, b .5, d 0
    fused = convex(dense, lexical, w=0.25)
    assert fused == pytest.approx({"c": 0.75, "b": 0.5, "a": 0.25, "d": 0.0})
    assert list(fused) == ["c", "b", "a", "d"]


def test_convex_extremes_reproduce_each_part():
    dense = {"a": 0.9, "b": 0.5, "c": 0.1}
    lexical = {"c": 12.0, "d": 7.0, "e": 1.0}
    assert list(convex(dense, lexical, w=1.0))[:3] == ["a", "b", "c"]
    assert list(convex(dense, lexical, w=0.0))[:2] == ["c", "d"]


def test_convex_rejects_weights_outside_0_1():
    with pytest.raises(ValueError, match="w must be"):
        convex({"a": 1.0}, {"a": 1.0}, w=1.5)


def test_per_query_ndcg_follows_the_ranking_order():
    ndcg = per_query_ndcg(
        [{"x": 3.0, "r": 2.0}, {"r": 1.0}, {}, {"x": 1.0}],
        [{"r"}, {"r"}, {"r"}, {"r"}],
    )
    assert ndcg == pytest.approx([1 / math.log2(3), 1.0, 0.0, 0.0])


def _dense_query():
    """Relevant ``r`` is first in the dense ranking and beyond rank 10 in the lexical one."""
    dense = {"r": 1.0, "y": 0.0}
    lexical = {f"x{i}": float(20 - i) for i in range(12)}
    return dense, lexical


def _lexical_query():
    """The mirror image: ``r`` first lexically, missing from the top 10 of the dense ranking."""
    lexical, dense = _dense_query()
    return dense, lexical


def test_weights_and_values_of_the_construction():
    dense, lexical = _dense_query()
    assert per_query_ndcg([convex(dense, lexical, 1.0)], [{"r"}])[0] == 1.0
    assert per_query_ndcg([convex(dense, lexical, 0.0)], [{"r"}])[0] == 0.0
    dense, lexical = _lexical_query()
    assert per_query_ndcg([convex(dense, lexical, 0.0)], [{"r"}])[0] == 1.0
    assert per_query_ndcg([convex(dense, lexical, 1.0)], [{"r"}])[0] == 0.0


def test_cross_validation_never_scores_a_query_with_a_weight_chosen_on_it():
    # Four queries need w=1, four need w=0. Leaving one out always leaves a majority for the
    # *other* weight, so every out-of-fold score is 0; had the held-out query voted (leakage)
    # the two weights would tie and half of the queries would score 1.
    queries = [_dense_query()] * 4 + [_lexical_query()] * 4
    dense = [d for d, _ in queries]
    lexical = [lx for _, lx in queries]
    relevant = [{"r"}] * 8
    choice = choose_convex_weight(dense, lexical, relevant, grid=(0.0, 1.0), folds=8, seed=3)
    assert choice.ndcg.tolist() == [0.0] * 8
    assert sorted(set(choice.fold.tolist())) == list(range(8))
    for q in range(8):
        wanted = 1.0 if q < 4 else 0.0
        assert choice.fold_weights[choice.fold[q]] == 1.0 - wanted
    assert choice.weight == 0.0  # on all queries the two tie; ties go to the first grid weight


def test_cross_validation_finds_a_weight_that_generalises():
    queries = [_dense_query()] * 6 + [_lexical_query()] * 2
    choice = choose_convex_weight(
        [d for d, _ in queries], [lx for _, lx in queries], [{"r"}] * 8, grid=(0.0, 1.0)
    )
    assert choice.weight == 1.0
    assert set(choice.fold_weights) == {1.0}
    assert choice.ndcg.tolist() == [1.0] * 6 + [0.0] * 2


def test_folds_are_balanced_and_seeded():
    queries = [_dense_query()] * 10
    args = ([d for d, _ in queries], [lx for _, lx in queries], [{"r"}] * 10)
    a = choose_convex_weight(*args, folds=3, seed=0)
    b = choose_convex_weight(*args, folds=3, seed=0)
    c = choose_convex_weight(*args, folds=3, seed=1)
    assert np.array_equal(a.fold, b.fold)
    assert not np.array_equal(a.fold, c.fold)
    assert sorted(np.bincount(a.fold).tolist()) == [3, 3, 4]


def test_cross_validation_input_errors():
    dense, lexical = _dense_query()
    with pytest.raises(ValueError, match="2 queries"):
        choose_convex_weight([dense], [lexical], [{"r"}])
    with pytest.raises(ValueError, match="length"):
        choose_convex_weight([dense, dense], [lexical], [{"r"}, {"r"}])
