"""Unit tests of the selection rule (targets, ties, cheaper-wins) on constructed results."""

from __future__ import annotations

import numpy as np

from autoembedding.candidates import Candidate, CandidateResult, Targets
from autoembedding.probe.selection import check_targets, select


def result(label: str, ndcg: np.ndarray, *, p95: float, nbytes: float, hit5: float = 0.8):
    ndcg = np.asarray(ndcg, dtype=float)
    return CandidateResult(
        candidate=Candidate.parse(label),
        metrics={"ndcg@10": float(ndcg.mean()), "hit@5": hit5},
        intervals={"ndcg@10": (float(ndcg.mean()) - 0.05, float(ndcg.mean()) + 0.05)},
        per_query={"ndcg@10": ndcg},
        query_p95_ms=p95,
        docs_per_s=100.0,
        load_s=1.0,
        bytes_per_vector=nbytes,
    )


BASE = np.random.default_rng(0).uniform(0.3, 1.0, size=200)
#: Zero-mean per-query disagreement: +/-0.05 alternating.
JITTER = np.where(np.arange(200) % 2 == 0, 0.05, -0.05)


def test_most_correct_wins_when_nothing_is_cheaper():
    best = result("big", BASE, p95=10, nbytes=1536)
    worse = result("small", BASE - 0.2, p95=10, nbytes=1536)
    winner, reason = select([worse, best], Targets())
    assert winner is best
    assert "highest nDCG@10" in reason and best.meets_targets and worse.meets_targets


def test_faster_candidate_wins_when_not_significantly_worse():
    best = result("slow", BASE, p95=40, nbytes=1536)
    close = result("fast", BASE - 0.002 + JITTER, p95=8, nbytes=1536)
    winner, reason = select([best, close], Targets())
    assert winner is close
    assert "not significantly worse" in reason and "faster" in reason and "slow" in reason


def test_smaller_vectors_win_a_tie_at_equal_speed():
    best = result("m", BASE, p95=10, nbytes=1536)
    int8 = result("m:int8", BASE - 0.002 + JITTER, p95=10.5, nbytes=384)
    winner, reason = select([best, int8], Targets())
    assert winner is int8 and "smaller" in reason


def test_significant_drop_is_not_traded_for_speed():
    best = result("slow", BASE, p95=40, nbytes=1536)
    fast = result("fast", BASE - 0.05, p95=8, nbytes=1536)  # consistent 0.05 drop: significant
    winner, _ = select([best, fast], Targets())
    assert winner is best


def noisy_pair(seed: int) -> tuple[CandidateResult, CandidateResult]:
    """A slow best and a fast candidate 0.005 behind on average, +/-0.3 per query, 80 queries."""
    noise = np.random.default_rng(seed).choice([-0.3, 0.3], size=80)
    noise -= noise.mean()
    best = result("slow", BASE[:80], p95=40, nbytes=1536)
    return best, result("fast", BASE[:80] - 0.005 + noise, p95=8, nbytes=1536)


def test_noisy_small_drop_is_not_taken_for_a_tie():
    # The mean drop is below the margin, but the per-query disagreement is too wide to show the
    # fast model is within 0.01 of the best, so the best keeps its place.
    best, fast = noisy_pair(1)
    winner, reason = select([best, fast], Targets())
    assert winner is best and "highest nDCG@10" in reason
    # The same drop with little disagreement is shown to be within the margin: fast wins.
    steady = result("steady", BASE[:80] - 0.005 + JITTER[:80] / 10, p95=8, nbytes=1536)
    winner, reason = select([best, steady], Targets())
    assert winner is steady and "at most" in reason


def test_targets_filter_and_explain():
    a = result("a", BASE, p95=30, nbytes=1536, hit5=0.9)
    b = result("b", BASE - 0.1, p95=5, nbytes=1536, hit5=0.6)
    winner, reason = select([a, b], Targets(max_query_ms=20, min_hit_at_5=0.7))
    assert winner is None
    assert a.failed_targets["max_query_ms"] == "query p95 30 ms > 20 ms (by 10 ms)"
    assert "short by 0.1" in b.failed_targets["min_hit_at_5"]
    assert "No candidate meets every target" in reason and "a (" in reason and "b (" in reason


def test_error_results_never_win():
    broken = CandidateResult(Candidate("x"), error="BackendError: boom")
    ok = result("ok", BASE - 0.3, p95=5, nbytes=100)
    winner, _ = select([broken, ok], Targets())
    assert winner is ok and broken.failed_targets == {"error": "BackendError: boom"}


def test_unmeasured_value_fails_its_target():
    r = CandidateResult(Candidate("x"), metrics={"ndcg@10": 0.5})
    assert check_targets(r, Targets(min_contradiction=0.5)) == {
        "min_contradiction": "contradiction not measured"
    }


def test_reason_says_when_the_runner_up_cannot_be_told_apart():
    best, close = noisy_pair(2)
    _, reason = select([best, close], Targets())
    assert "cannot tell them apart" in reason and "fast" in reason
    far = result("bad", BASE[:80] - 0.2, p95=8, nbytes=1536)
    _, reason = select([best, far], Targets())
    assert "cannot tell" not in reason


# --------------------------------------------------------------- lexical and hybrid candidates
def hybrid(label: str, ndcg: np.ndarray, parts: dict[str, np.ndarray], *, p95: float):
    out = result(label, ndcg, p95=p95, nbytes=2000)
    out.part_ndcg = {k: np.asarray(v, dtype=float) for k, v in parts.items()}
    return out


def test_bm25_takes_a_dense_models_place_only_by_the_same_paired_statistics():
    dense = result("fake/a", BASE[:80], p95=20, nbytes=1536)
    best, noisy = noisy_pair(3)
    bm25_noisy = result("bm25", noisy.per_query["ndcg@10"], p95=0.2, nbytes=300)
    winner, _ = select([best, bm25_noisy], Targets())
    assert winner is best  # faster, but not shown to be within the margin
    bm25_close = result("bm25", BASE[:80] - 0.004 + JITTER[:80] / 10, p95=0.2, nbytes=300)
    winner, reason = select([dense, bm25_close], Targets())
    assert winner is bm25_close and "not significantly worse" in reason and "faster" in reason
    bm25_better = result("bm25", BASE[:80] + 0.1, p95=0.2, nbytes=300)
    assert select([dense, bm25_better], Targets())[0] is bm25_better


def test_a_hybrid_not_significantly_better_than_its_better_part_loses_to_that_part():
    dense_part = BASE[:80]
    bm25_part = BASE[:80] - 0.1
    noise = np.random.default_rng(4).choice([-0.3, 0.3], size=80)
    noise -= noise.mean()
    mixed = dense_part + 0.02 + noise  # ahead on average, not significantly
    dense = result("fake/a", dense_part, p95=20, nbytes=1536)
    bm25 = result("bm25", bm25_part, p95=0.2, nbytes=300)
    fused = hybrid("hybrid:fake/a+bm25", mixed, {"fake/a": dense_part, "bm25": bm25_part}, p95=21)
    winner, reason = select([dense, bm25, fused], Targets())
    assert fused.metrics["ndcg@10"] > dense.metrics["ndcg@10"]  # the best mean ...
    assert winner is dense  # ... but the cheaper part wins
    assert "not significantly better than its better part fake/a" in fused.lexical["not_picked"]
    assert "Not picked, as not significantly better than their better part" in reason
    assert fused.meets_targets  # it met the targets: refused by the rule, not a target


def test_a_clearly_better_hybrid_wins_over_its_parts():
    dense_part, bm25_part = BASE[:80], BASE[:80] - 0.1
    fused = hybrid(
        "hybrid-rrf:fake/a+bm25",
        np.minimum(dense_part + 0.08, 1.0),
        {"fake/a": dense_part, "bm25": bm25_part},
        p95=21,
    )
    dense = result("fake/a", dense_part, p95=20, nbytes=1536)
    winner, _ = select([dense, result("bm25", bm25_part, p95=0.2, nbytes=300), fused], Targets())
    assert winner is fused and fused.lexical["gain_over_part"]["part"] == "fake/a"
    assert "not_picked" not in fused.lexical


def test_a_refused_hybrid_stays_when_its_part_misses_a_target():
    noise = np.random.default_rng(5).choice([-0.3, 0.3], size=80)
    dense_part = np.full(80, 0.69)
    fused_values = 0.7 + noise - noise.mean()  # not significantly above 0.69
    fused = hybrid("hybrid:fake/a+bm25", fused_values, {"fake/a": dense_part}, p95=21)
    dense = result("fake/a", dense_part, p95=20, nbytes=1536)
    winner, _ = select([dense, fused], Targets())
    assert winner is dense and fused.lexical["not_picked"]
    winner, _ = select([dense, fused], Targets(min_ndcg_at_10=0.695))
    assert winner is fused and "not_picked" not in fused.lexical  # the part cannot win
