"""Which candidates a paired test shows behind the race's leader (the race's early drops).

Used by the race between stages (:mod:`.race`) and by the budget's cuts (:mod:`.budget`), which
never drop a candidate that is not shown behind.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autoembedding.candidates import CandidateResult
from autoembedding.metrics import paired_pvalue
from autoembedding.probe.paired import holm
from autoembedding.probe.selection import ALPHA

__all__ = ["behind_leader"]


def behind_leader(
    alive: Sequence[CandidateResult], looks: int = 1, alpha: float | None = None
) -> list[tuple[CandidateResult, str]]:
    """The candidates a paired test shows behind the leader, family-wise at ``alpha``.

    Each candidate's per-query nDCG@10 is paired with the leader's (the highest mean) on the
    same queries and tested with the sign-flip test (:func:`~.metrics.paired_pvalue`); Holm's
    step-down correction runs over the candidates compared, at ``alpha / looks`` (Bonferroni
    over the race's stages, each a look at the data). Marginal intervals that must not
    overlap are not a paired test: two models whose queries move together differ more
    surely than their intervals say, and a zero-width interval at 1 says nothing.

    Args:
        alive: Candidates still in the race, each with per-query nDCG@10.
        looks: The race's stages (the looks the error rate is split over).
        alpha: Family-wise level (default :data:`~.selection.ALPHA`).

    Returns:
        ``(candidate, why)`` for each candidate shown behind, worded for the report.
    """
    level = (ALPHA if alpha is None else alpha) / max(looks, 1)
    scored = [r for r in alive if "ndcg@10" in r.per_query]
    if len(scored) < 2:
        return []
    leader = max(scored, key=lambda r: r.metrics["ndcg@10"])
    lead = np.asarray(leader.per_query["ndcg@10"], dtype=float)
    others = [r for r in scored if r is not leader and len(r.per_query["ndcg@10"]) == len(lead)]
    pvalues = [paired_pvalue(lead, np.asarray(r.per_query["ndcg@10"], dtype=float)) for r in others]
    out = []
    for result, p, rejected in zip(others, pvalues, holm(pvalues, level), strict=True):
        if rejected and result.metrics["ndcg@10"] < leader.metrics["ndcg@10"]:
            out.append(
                (
                    result,
                    (
                        f"nDCG@10 {result.metrics['ndcg@10']:.3f} vs {leader.candidate.label}'s "
                        f"{leader.metrics['ndcg@10']:.3f}, paired p = {p:.4f} (Holm over "
                        f"{len(others)} candidate(s) at {ALPHA if alpha is None else alpha:g}"
                        f"/{looks} stage(s))"
                    ),
                )
            )
    return out
