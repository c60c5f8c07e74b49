"""Pick the winner among probed candidates, under the user's targets.

The rule, in order:

1. A candidate is *eligible* when it ran without error, was measured on the same documents
   and queries as the most measured candidates (one dropped or failed at an earlier, smaller
   stage is not compared, and the reason names it), and meets every target
   (:func:`check_targets`).
2. The *best* eligible candidate is the one with the highest mean nDCG@10.
3. An eligible candidate is *not significantly worse* than the best when a non-inferiority test
   on the paired per-query nDCG@10 values shows it: the one-sided 95% upper confidence bound on
   ``best - candidate`` is at most ``margin`` (default 0.01 nDCG@10), with Holm's correction
   over every finalist tested (so among many variants a truly worse cheap one does not pass by
   multiplicity). Those, with the best, form the *ties*. Failing to find a difference is not
   enough: with few or noisy queries the bound is wide and the most correct candidate keeps its
   place.
4. Among the ties, prefer the fastest: keep those whose query p95 latency is within 10% of the
   lowest p95 among the ties, then take the one with the fewest bytes per vector, then the highest
   nDCG@10. So a cheaper or faster candidate wins when the data show it loses at most ``margin``
   against the most correct one (typically an int8, binary or Matryoshka variant of the best
   model, or a model that is just as good on these documents).

Lexical (``bm25``) and hybrid candidates compete under the same rule, with the same paired
statistics: BM25 takes a dense model's place only by a higher nDCG@10, or by being shown
non-inferior and faster. A hybrid must also beat its better part (the higher-scoring of its dense
model and BM25 on the same queries) significantly (paired sign-flip test, ``p < ALPHA``, gain
above 0); otherwise it cannot win and the cheaper part competes in its place (see
:func:`refuse_hybrids`). Every latency is the query as served on the whole collection
(:class:`~.serving.Serving`): a hybrid's is its dense query, its BM25 search, the fusion and the
reads, so latency targets count all of them. ``max_query_ms`` is judged on the p95 (after the
race re-measured an undecided one once: :func:`latency_verdict`).

When nothing is eligible the winner is ``None`` and the reason says, per candidate, which targets
failed and by how much.

Example:
    >>> from autoembedding.candidates import Candidate, CandidateResult, Targets
    >>> r = CandidateResult(Candidate("m"), metrics={"ndcg@10": 0.5, "hit@5": 0.6},
    ...                     query_p95_ms=30.0, bytes_per_vector=1536.0)
    >>> check_targets(r, Targets(max_query_ms=20))
    {'max_query_ms': 'query p95 30 ms > 20 ms (by 10 ms)'}

"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autoembedding.candidates import CandidateResult, Targets
from autoembedding.probe.latency import latency_verdict
from autoembedding.probe.paired import holm

__all__ = [
    "ALPHA",
    "LATENCY_SLACK",
    "latency_verdict",
    "MARGIN",
    "check_targets",
    "paired_p",
    "refuse_hybrids",
    "select",
]

#: Significance level of the paired tests (two-sided difference test while racing; the
#: non-inferiority bound below is one-sided at ``1 - ALPHA``).
ALPHA = 0.05
#: Largest nDCG@10 loss against the most correct candidate that a cheaper or faster one may
#: have, at 95% confidence, and still be preferred.
MARGIN = 0.01
#: Latencies within this factor of the fastest tie count as equally fast.
LATENCY_SLACK = 1.10


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def check_targets(result: CandidateResult, targets: Targets) -> dict[str, str]:
    """Which targets a measured candidate misses, and by how much.

    A measure that was not taken (``None``) fails a target that needs it.

    Args:
        result: The candidate's measures.
        targets: The user's targets.

    Returns:
        Target name -> a human-readable shortfall; empty when every target is met.

    """
    failed: dict[str, str] = {}

    def at_most(name: str, value: float | None, limit: float | None, what: str, unit: str) -> None:
        if limit is None:
            return
        if value is None:
            failed[name] = f"{what} not measured"
        elif value > limit:
            failed[name] = (
                f"{what} {_fmt(value)}{unit} > {_fmt(limit)}{unit} (by {_fmt(value - limit)}{unit})"
            )

    def at_least(name: str, value: float | None, limit: float | None, what: str, unit: str) -> None:
        if limit is None:
            return
        if value is None:
            failed[name] = f"{what} not measured"
        elif value < limit:
            failed[name] = (
                f"{what} {_fmt(value)}{unit} < {_fmt(limit)}{unit} "
                f"(short by {_fmt(limit - value)}{unit})"
            )

    at_most("max_query_ms", result.query_p95_ms, targets.max_query_ms, "query p95", " ms")
    at_least("min_hit_at_5", result.metrics.get("hit@5"), targets.min_hit_at_5, "hit@5", "")
    at_least("min_ndcg_at_10", result.metrics.get("ndcg@10"), targets.min_ndcg_at_10, "nDCG@10", "")
    at_most(
        "max_bytes_per_vector",
        result.bytes_per_vector,
        targets.max_bytes_per_vector,
        "bytes/vector",
        " B",
    )
    at_least("min_docs_per_s", result.docs_per_s, targets.min_docs_per_s, "docs/s", "")
    at_most("max_load_s", result.load_s, targets.max_load_s, "load", " s")
    at_least(
        "min_contradiction", result.contradiction, targets.min_contradiction, "contradiction", ""
    )
    return failed


def _ndcg(result: CandidateResult) -> float:
    return float(result.metrics.get("ndcg@10", float("nan")))


def _paired(a: CandidateResult, b: CandidateResult) -> tuple[np.ndarray, np.ndarray] | None:
    """Both candidates' per-query nDCG@10, or ``None`` when they saw different queries."""
    va, vb = a.per_query.get("ndcg@10"), b.per_query.get("ndcg@10")
    if va is None or vb is None or len(va) != len(vb) or len(va) == 0:
        return None
    return np.asarray(va, dtype=float), np.asarray(vb, dtype=float)


def paired_p(a: CandidateResult, b: CandidateResult) -> float | None:
    """Paired p-value on per-query nDCG@10, or ``None`` when they saw different queries."""
    from autoembedding.metrics import paired_pvalue

    pair = _paired(a, b)
    return None if pair is None else float(paired_pvalue(*pair))


def _loss_bound(best: CandidateResult, other: CandidateResult, alpha: float) -> float | None:
    """Upper confidence bound on ``best - other`` per-query nDCG@10; ``None`` if not paired."""
    from autoembedding.metrics import paired_upper_bound

    pair = _paired(best, other)
    return None if pair is None else paired_upper_bound(*pair, level=1.0 - alpha)


def refuse_hybrids(results: Sequence[CandidateResult], alpha: float = ALPHA) -> list[str]:
    """Mark the hybrids that are not significantly better than their better part.

    The better part is the one of the hybrid's dense model and BM25 with the higher mean
    nDCG@10 on the hybrid's queries (``part_ndcg``); the test pairs the hybrid's per-query
    nDCG@10 with that part's. A hybrid is refused (``lexical["not_picked"]`` says why) only when
    that part meets every target, so the part can win in its place.

    Args:
        results: Every probed candidate, after ``meets_targets`` is set.
        alpha: Significance level of the paired test.

    Returns:
        The labels of the refused hybrids.
    """
    from autoembedding.metrics import paired_pvalue

    by_label = {r.candidate.label: r for r in results}
    refused = []
    for result in results:
        result.lexical.pop("not_picked", None)
        ndcg = result.per_query.get("ndcg@10")
        if result.candidate.kind != "hybrid" or not result.part_ndcg or ndcg is None:
            continue
        label = max(result.part_ndcg, key=lambda k: float(np.mean(result.part_ndcg[k])))
        part = by_label.get(label)
        hybrid_values = np.asarray(ndcg, dtype=float)
        part_values = np.asarray(result.part_ndcg[label], dtype=float)
        gain = float(hybrid_values.mean() - part_values.mean())
        p = float(paired_pvalue(hybrid_values, part_values))
        if gain > 0 and p < alpha:
            result.lexical["gain_over_part"] = {"part": label, "gain": gain, "p": p}
            continue
        if part is None or not part.meets_targets or not result.meets_targets:
            continue
        result.lexical["not_picked"] = (
            f"not significantly better than its better part {label} (nDCG@10 "
            f"{hybrid_values.mean():.3f} vs {part_values.mean():.3f}, paired p = {p:.2f}); "
            "the cheaper part is preferred"
        )
        refused.append(result.candidate.label)
    return refused


def _latency(result: CandidateResult) -> float:
    return result.query_p95_ms if result.query_p95_ms is not None else float("inf")


def _bytes(result: CandidateResult) -> float:
    return result.bytes_per_vector if result.bytes_per_vector is not None else float("inf")


def select(
    results: Sequence[CandidateResult],
    targets: Targets,
    *,
    alpha: float = ALPHA,
    margin: float = MARGIN,
) -> tuple[CandidateResult | None, str]:
    """Apply the targets and the selection rule (see the module docstring).

    Sets ``meets_targets`` and ``failed_targets`` on every result.

    Args:
        results: Every probed candidate (errored ones included).
        targets: The user's targets.
        alpha: One minus the confidence level of the non-inferiority bound.
        margin: Largest nDCG@10 loss (at that confidence) a cheaper candidate may have and
            still win.

    Returns:
        ``(winner, reason)``; ``winner`` is ``None`` when nothing meets every target.

    """
    for result in results:
        if result.error is not None:
            result.failed_targets = {"error": result.error}
            result.meets_targets = False
            continue
        result.failed_targets = check_targets(result, targets)
        if not result.metrics:
            result.failed_targets.setdefault("metrics", "not measured")
        result.meets_targets = not result.failed_targets

    fewer = _measured_on_fewer(results)
    for result in fewer:
        result.meets_targets = False
        result.failed_targets.setdefault(
            "measured", "measured on fewer documents and queries than the others: not compared"
        )
    refused = set(refuse_hybrids(results, alpha))
    able = [r for r in results if r.meets_targets and r.candidate.label not in refused]
    eligible = [r for r in able if r.dropped is None] + [r for r in able if r.dropped is not None]
    if not eligible:
        return None, _nothing_reason(results) + _fewer_note(fewer)
    finalists = [r for r in eligible if r.dropped is None] or eligible
    best = max(finalists, key=_ndcg)
    ties: list[tuple[CandidateResult, float | None]] = [(best, None)]
    others = [r for r in finalists if r is not best and _paired(best, r) is not None]
    pvalues = [_noninferiority_p(best, r, margin) for r in others]
    for other, shown in zip(others, holm(pvalues, alpha), strict=True):
        if shown:
            ties.append((other, _loss_bound(best, other, alpha)))
    fastest = min(_latency(r) for r, _ in ties)
    quick = [(r, p) for r, p in ties if _latency(r) <= fastest * LATENCY_SLACK]
    winner, bound_win = min(quick, key=lambda rp: (_bytes(rp[0]), -_ndcg(rp[0])))
    n_ok, n_fin = len(eligible), len(finalists)
    if n_ok == 1:
        scope = "the only candidate that meets every target"
    elif n_fin == n_ok:
        scope = f"the {n_ok} candidates that meet every target"
    else:
        scope = (
            f"the {n_fin} finalist(s) that meet every target ({n_ok - n_fin} more met them but "
            "were dropped early as clearly worse)"
        )
    lo, hi = winner.intervals.get("ndcg@10", (float("nan"), float("nan")))
    if winner is best:
        reason = (
            f"{winner.candidate.label} has the highest nDCG@10 ({_ndcg(winner):.3f}, 95% CI "
            f"[{lo:.3f}, {hi:.3f}]) among {scope}"
        )
        if len(ties) > 1:
            tied = ", ".join(r.candidate.label for r, _ in ties if r is not winner)
            reason += (
                f"; {tied} {'is' if len(ties) == 2 else 'are'} shown to be at most {margin} "
                "worse, but not cheaper or faster"
            )
        reason += "." + _undecided_note(winner, finalists, [r for r, _ in ties], alpha)
    else:
        gains = []
        if _latency(winner) < _latency(best) / LATENCY_SLACK:
            gains.append(f"faster (query p95 {_latency(winner):.1f} ms vs {_latency(best):.1f} ms)")
        if _bytes(winner) < _bytes(best):
            gains.append(f"smaller ({_bytes(winner):g} vs {_bytes(best):g} bytes per vector)")
        reason = (
            f"{winner.candidate.label} is not significantly worse than the most correct candidate "
            f"{best.candidate.label} (nDCG@10 {_ndcg(winner):.3f} vs {_ndcg(best):.3f}; its loss "
            f"is at most {bound_win:.3f} at {1 - alpha:.0%} confidence, within the margin of "
            f"{margin}) and is {' and '.join(gains) or 'cheaper'}; chosen among {scope}."
        )
    if refused:
        reason += (
            f" Not picked, as not significantly better than their better part: "
            f"{', '.join(sorted(refused))}."
        )
    if len(others) > 1:
        reason += (
            f" The non-inferiority tests of the {len(others)} other finalists are "
            f"Holm-corrected (family-wise {alpha:g})."
        )
    return winner, reason + _fewer_note(fewer)


def _queries_of(result: CandidateResult) -> int:
    return len(result.per_query.get("ndcg@10", ()))


def _measured_on_fewer(results: Sequence[CandidateResult]) -> list[CandidateResult]:
    """Measured candidates whose queries (and pool) are fewer than the most measured ones'.

    The race's pool and queries only grow, so a candidate measured on fewer queries was
    measured on an earlier, smaller and easier stage (dropped, cut by the budget, or failed
    later): its means are not comparable with the others', nor with the targets on their pool.
    """
    measured = [r for r in results if r.error is None and _queries_of(r)]
    if not measured:
        return []
    most = max(_queries_of(r) for r in measured)
    return [r for r in measured if _queries_of(r) < most]


def _fewer_note(fewer: Sequence[CandidateResult]) -> str:
    """Name the candidates left out of the comparison as measured on fewer queries."""
    if not fewer:
        return ""
    names = ", ".join(
        f"{r.candidate.label} (nDCG@10 {_ndcg(r):.3f} on {_queries_of(r)} queries)" for r in fewer
    )
    return (
        f" Not compared, as measured on fewer documents and queries (an earlier, smaller stage; "
        f"see each one's note): {names}."
    )


def _noninferiority_p(best: CandidateResult, other: CandidateResult, margin: float) -> float:
    from autoembedding.probe.paired import noninferiority_pvalue

    pair = _paired(best, other)
    return 1.0 if pair is None else noninferiority_pvalue(*pair, margin)


def _undecided_note(
    winner: CandidateResult,
    finalists: Sequence[CandidateResult],
    ties: Sequence[CandidateResult],
    alpha: float,
) -> str:
    """Say so when the runner-up is neither significantly behind nor shown to be equivalent."""
    others = [r for r in finalists if r is not winner and r not in ties]
    if not others:
        return ""
    runner = max(others, key=_ndcg)
    p = paired_p(winner, runner)
    if p is None or p < alpha:
        return ""
    return (
        f" It is not significantly ahead of {runner.candidate.label} (nDCG@10 "
        f"{_ndcg(winner):.3f} vs {_ndcg(runner):.3f}, paired p = {p:.2f}): on these documents the "
        "probe cannot tell them apart. Labelled queries (queries=...) or a larger sample_size "
        "would."
    )


def _nothing_reason(results: Sequence[CandidateResult]) -> str:
    """Why nothing won: each candidate's failed targets (or error)."""
    lines = []
    for result in results:
        fails = "; ".join(f"{k}: {v}" for k, v in result.failed_targets.items())
        lines.append(f"{result.candidate.label} ({fails or 'not measured'})")
    if not lines:
        return "No candidate was probed."
    return (
        "No candidate meets every target, so none is picked. "
        + " | ".join(lines)
        + ". Relax the failing targets or add candidates."
    )
