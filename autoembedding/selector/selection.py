"""Pick the winner among probed candidates, under the user's targets.

The rule, in order:

1. A candidate is *eligible* when it ran without error and meets every target
   (:func:`check_targets`).
2. The *best* eligible candidate is the one with the highest mean nDCG@10.
3. An eligible candidate is *not significantly worse* than the best when its mean nDCG@10 is at
   most ``max_drop`` (default 0.02) below the best's **and** a paired test on the per-query
   nDCG@10 values gives ``p > alpha`` (default 0.05). Those, with the best, form the *ties*.
4. Among the ties, prefer the fastest: keep those whose query p95 latency is within 10% of the
   lowest p95 among the ties, then take the one with the fewest bytes per vector, then the highest
   nDCG@10. So a cheaper or faster candidate wins when the data cannot tell it apart from the most
   correct one.

When nothing is eligible the winner is ``None`` and the reason says, per candidate, which targets
failed and by how much.

Example:
    >>> from autoembedding.selector.types import Candidate, CandidateResult, Targets
    >>> r = CandidateResult(Candidate("m"), metrics={"ndcg@10": 0.5, "hit@5": 0.6},
    ...                     query_p95_ms=30.0, bytes_per_vector=1536.0)
    >>> check_targets(r, Targets(max_query_ms=20))
    {'max_query_ms': 'query p95 30.0 ms > 20 ms (by 10.0 ms)'}

"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autoembedding.selector.types import CandidateResult, Targets

__all__ = ["ALPHA", "LATENCY_SLACK", "MAX_DROP", "check_targets", "select"]

#: Significance level of the paired test.
ALPHA = 0.05
#: Largest mean nDCG@10 drop that still counts as "not worse" (with p > ALPHA).
MAX_DROP = 0.02
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


def _paired_p(a: CandidateResult, b: CandidateResult) -> float | None:
    """Paired p-value on per-query nDCG@10, or ``None`` when they saw different queries."""
    from autoembedding.selector.metrics import paired_pvalue

    va, vb = a.per_query.get("ndcg@10"), b.per_query.get("ndcg@10")
    if va is None or vb is None or len(va) != len(vb) or len(va) == 0:
        return None
    return float(paired_pvalue(np.asarray(va, dtype=float), np.asarray(vb, dtype=float)))


def _latency(result: CandidateResult) -> float:
    return result.query_p95_ms if result.query_p95_ms is not None else float("inf")


def _bytes(result: CandidateResult) -> float:
    return result.bytes_per_vector if result.bytes_per_vector is not None else float("inf")


def select(
    results: Sequence[CandidateResult],
    targets: Targets,
    *,
    alpha: float = ALPHA,
    max_drop: float = MAX_DROP,
) -> tuple[CandidateResult | None, str]:
    """Apply the targets and the selection rule (see the module docstring).

    Sets ``meets_targets`` and ``failed_targets`` on every result.

    Args:
        results: Every probed candidate (errored ones included).
        targets: The user's targets.
        alpha: Significance level of the paired test.
        max_drop: Largest mean nDCG@10 drop a cheaper candidate may have and still win.

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

    eligible = [r for r in results if r.meets_targets and r.dropped is None]
    eligible += [r for r in results if r.meets_targets and r.dropped is not None]
    if not eligible:
        return None, _nothing_reason(results)
    finalists = [r for r in eligible if r.dropped is None] or eligible
    best = max(finalists, key=_ndcg)
    ties: list[tuple[CandidateResult, float | None]] = [(best, None)]
    for other in finalists:
        if other is best:
            continue
        drop = _ndcg(best) - _ndcg(other)
        p = _paired_p(best, other)
        if drop <= max_drop and p is not None and p > alpha:
            ties.append((other, p))
    fastest = min(_latency(r) for r, _ in ties)
    quick = [(r, p) for r, p in ties if _latency(r) <= fastest * LATENCY_SLACK]
    winner, p_win = min(quick, key=lambda rp: (_bytes(rp[0]), -_ndcg(rp[0])))
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
            others = ", ".join(r.candidate.label for r, _ in ties if r is not winner)
            reason += f"; statistically tied with {others}, but none of those is cheaper or faster"
        reason += "."
    else:
        gains = []
        if _latency(winner) < _latency(best) / LATENCY_SLACK:
            gains.append(
                f"faster (query p95 {_latency(winner):.1f} ms vs {_latency(best):.1f} ms)"
            )
        if _bytes(winner) < _bytes(best):
            gains.append(
                f"smaller ({_bytes(winner):g} vs {_bytes(best):g} bytes per vector)"
            )
        reason = (
            f"{winner.candidate.label} is not significantly worse than the most correct candidate "
            f"{best.candidate.label} (nDCG@10 {_ndcg(winner):.3f} vs {_ndcg(best):.3f}, drop "
            f"{_ndcg(best) - _ndcg(winner):.3f} <= {max_drop}, paired p = {p_win:.2f} > {alpha}) "
            f"and is {' and '.join(gains) or 'cheaper'}; chosen among {scope}."
        )
    return winner, reason


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
