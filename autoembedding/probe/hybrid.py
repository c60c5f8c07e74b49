"""Score hybrid candidates: a dense ranking fused with a BM25 ranking, RRF or convex.

A hybrid label names its fusion and its two parts (see
:class:`~autoembedding.candidates.Candidate`):

* ``hybrid-rrf:<dense label>+bm25``: reciprocal rank fusion, ``k = 60``.
* ``hybrid:<dense label>+bm25``: ``w * dense + (1 - w) * bm25`` of min-max-normalised scores,
  ``w`` chosen by 5-fold cross-validation over the probe queries
  (:func:`~autoembedding.lexical.fusion.choose_convex_weight`). Every query is scored with the
  weight chosen on the *other* folds, so a query never scores the weight it chose; the weight
  to serve is the one chosen on all queries.

Each part contributes its best :data:`FUSION_DEPTH` documents, as a retriever serving the hybrid
would fetch them; BM25 contributes only documents that share a term with the query. The same
per-query values of both parts on the same queries are kept, so the selection can ask whether
the hybrid is significantly better than its better part.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "FUSION_DEPTH",
    "HybridScore",
    "RRF_K",
    "lexical_rankings",
    "ranking_metrics",
    "score_hybrid",
    "top_rankings",
]

#: Documents each part contributes to a fused ranking.
FUSION_DEPTH = 50
#: The RRF constant.
RRF_K = 60
#: Folds of the convex weight's cross-validation.
CV_FOLDS = 5


@dataclass
class HybridScore:
    """A hybrid's per-query metrics and how its fusion was set.

    Attributes:
        per_query: Metric name -> per-query values (out of fold for a convex hybrid).
        part_ndcg: Part label -> its per-query nDCG@10 on the same queries.
        details: JSON-able facts for the report (fusion, weight, folds, depth).
        fusion_ms: Time of fusing one query's two rankings, after a warm-up, for
            :data:`~.latency.N_LATENCY_QUERIES` queries (cycled when there are fewer).
        missing: The most documents of a fused top ``SERVE_K`` that its dense ranking did not
            hold: what a served hybrid reads from the store after fusing.
    """

    per_query: dict[str, np.ndarray]
    part_ndcg: dict[str, np.ndarray]
    details: dict[str, Any] = field(default_factory=dict)
    fusion_ms: list[float] = field(default_factory=list)
    missing: int = 0


def top_rankings(
    scores: np.ndarray, ids: Sequence[str], depth: int, *, positive: bool = False
) -> list[dict[str, float]]:
    """Each row's best ``depth`` documents as ``{id: score}``, best first.

    Ties keep pool order, which the probe shuffles, so no document gains from where it sits.

    Args:
        scores: ``(n_queries, n_docs)`` scores.
        ids: The column ids.
        depth: Documents kept per row.
        positive: Keep only scores above 0 (a BM25 ranking: documents sharing a term).

    Returns:
        One ranking per row.
    """
    out: list[dict[str, float]] = []
    order = np.argsort(-scores, axis=1, kind="stable")[:, :depth]
    for row, cols in zip(scores, order, strict=True):
        out.append(
            {ids[c]: float(row[c]) for c in cols if not positive or row[c] > 0}  # best first
        )
    return out


def lexical_rankings(scores: np.ndarray, ids: Sequence[str]) -> list[dict[str, float]]:
    """BM25 rankings as a retriever returns them: every document that shares a term, best first."""
    return top_rankings(scores, ids, scores.shape[1] if scores.ndim == 2 else 0, positive=True)


def ranking_metrics(
    rankings: Sequence[dict[str, float]], relevant: Sequence[AbstractSet[str]]
) -> dict[str, np.ndarray]:
    """The probe's per-query metrics of ranked lists that need not hold every pool document.

    A document missing from a query's ranking is not retrieved: it never counts as a hit (a
    BM25 ranking holds only the documents sharing a term with the query), and relevant ids
    still count in the recall and nDCG denominators. Documents with the same score rank
    relevant-last (the pessimistic ties of ``per_query_metrics``), whatever their order in the
    ranking.

    Args:
        rankings: One ``{id: score}`` per query, in rank order.
        relevant: The relevant ids of each query.

    Returns:
        Metric name -> ``(n_queries,)`` values (see ``metrics.METRIC_NAMES``).
    """
    from autoembedding.metrics import METRIC_NAMES, per_query_metrics

    out = {name: np.zeros(len(rankings), dtype=np.float64) for name in METRIC_NAMES}
    for q, (ranking, rel) in enumerate(zip(rankings, relevant, strict=True)):
        if not ranking:
            continue
        scores = np.fromiter(ranking.values(), dtype=np.float64, count=len(ranking))[None, :]
        for name, values in per_query_metrics(scores, list(ranking), [rel]).items():
            out[name][q] = values[0]
    return out


def score_hybrid(
    fusion: str,
    dense_scores: np.ndarray,
    lexical_scores: np.ndarray,
    ids: Sequence[str],
    relevant: Sequence[AbstractSet[str]],
    *,
    labels: tuple[str, str],
    seed: int = 0,
) -> HybridScore:
    """Fuse a dense and a BM25 score matrix over the same queries and pool, and score it.

    Args:
        fusion: ``"rrf"`` or ``"convex"``.
        dense_scores: ``(n_queries, n_docs)`` dense similarities.
        lexical_scores: ``(n_queries, n_docs)`` BM25 scores, same rows and columns.
        ids: The pool ids (columns).
        relevant: The relevant ids of each query (rows).
        labels: ``(dense label, lexical label)``, the keys of ``part_ndcg``.
        seed: Seed of the fold assignment (convex).

    Returns:
        The hybrid's per-query metrics, its parts' per-query nDCG@10 and the fusion's facts.

    Raises:
        ValueError: For an unknown fusion, or a convex fusion with fewer than 2 queries.
    """
    from autoembedding.lexical import choose_convex_weight, convex, rrf

    dense = top_rankings(dense_scores, ids, FUSION_DEPTH)
    lexical = top_rankings(lexical_scores, ids, FUSION_DEPTH, positive=True)
    details: dict[str, Any] = {"fusion": fusion, "depth": FUSION_DEPTH}
    if fusion == "rrf":
        weights = None
        fused = [rrf([d, lx], k=RRF_K) for d, lx in zip(dense, lexical, strict=True)]
        details["k"] = RRF_K
    elif fusion == "convex":
        if len(relevant) < 2:
            raise ValueError("a convex hybrid needs at least 2 probe queries to cross-validate.")
        choice = choose_convex_weight(dense, lexical, relevant, folds=CV_FOLDS, seed=seed)
        weights = [choice.fold_weights[f] for f in choice.fold]
        fused = [convex(d, lx, w) for d, lx, w in zip(dense, lexical, weights, strict=True)]
        details.update(
            weight=choice.weight,
            folds=len(choice.fold_weights),
            fold_weights=list(choice.fold_weights),
            out_of_fold=True,
        )
    else:
        raise ValueError(f"unknown fusion {fusion!r}; use 'rrf' or 'convex'.")
    per_query = ranking_metrics(fused, relevant)
    fusion_ms = _time_fusion(fusion, dense, lexical, details.get("weight", 0.5))
    dense_label, lexical_label = labels
    part_ndcg = {
        dense_label: ranking_metrics(dense, relevant)["ndcg@10"],
        lexical_label: ranking_metrics(lexical, relevant)["ndcg@10"],
    }
    if weights is not None:
        details["mean_fold_weight"] = float(np.mean(weights))
    from autoembedding.probe.latency import SERVE_K

    missing = max(
        (sum(i not in d for i in list(f)[:SERVE_K]) for f, d in zip(fused, dense, strict=True)),
        default=0,
    )
    return HybridScore(per_query, part_ndcg, details, fusion_ms, missing)


def _time_fusion(
    fusion: str,
    dense: Sequence[dict[str, float]],
    lexical: Sequence[dict[str, float]],
    weight: float,
) -> list[float]:
    """Milliseconds to fuse one query's two rankings (:func:`~.latency.timed`, queries cycled)."""
    from autoembedding.lexical import convex, rrf
    from autoembedding.probe.latency import timed

    pairs = list(zip(dense, lexical, strict=True))
    if not pairs:
        return []

    def fuse(i: int) -> None:
        d, lx = pairs[i % len(pairs)]
        if fusion == "rrf":
            rrf([d, lx], k=RRF_K)
        else:
            convex(d, lx, weight)

    return timed(fuse, wait_s=0.0).ms  # microseconds: not worth waiting for abandoned workers
