"""Fusing a dense and a lexical ranking: RRF, and a convex mix whose weight is cross-validated.

A ranking is ``{id: score}`` (higher is better); a fused ranking is returned as a dict in
descending score order, ties in order of first appearance (the dense ranking first).

Example:
    >>> list(rrf([{"a": 0.9, "b": 0.5}, {"b": 3.0, "c": 1.0}]))  # b: 1/62 + 1/61
    ['b', 'a', 'c']
    >>> dense = {"a": 0.9, "b": 0.5, "c": 0.1}
    >>> lexical = {"c": 12.0, "b": 7.0}
    >>> convex(dense, lexical, w=0.5)  # dense min-max: a 1, b .5, c 0; lexical: c 1, b 0
    {'a': 0.5, 'c': 0.5, 'b': 0.25}

"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DEFAULT_GRID",
    "WeightChoice",
    "choose_convex_weight",
    "convex",
    "minmax",
    "per_query_ndcg",
    "rrf",
]

Ranking = Mapping[str, float]

#: The default grid of dense weights tried by :func:`choose_convex_weight`.
DEFAULT_GRID: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(11))


def _ordered(scores: dict[str, float]) -> dict[str, float]:
    """``scores`` in descending order, ties kept in insertion order (sorted is stable)."""
    return dict(sorted(scores.items(), key=lambda item: -item[1]))


def rrf(rankings: Sequence[Ranking], k: int = 60) -> dict[str, float]:
    """Reciprocal rank fusion: each id scores ``sum(1 / (k + rank))`` over the rankings it is in.

    Ranks start at 1 and follow each ranking's scores, descending (ties in its order).

    Args:
        rankings: The rankings to fuse.
        k: The RRF constant (60 in Cormack et al., 2009).

    Returns:
        The fused ranking.

    """
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(_ordered(dict(ranking)), start=1):
            fused[doc_id] = fused.get(doc_id, 0.0) + 1.0 / (k + rank)
    return _ordered(fused)


def minmax(ranking: Ranking) -> dict[str, float]:
    """Scores rescaled to ``[0, 1]``; all ones when every score is the same.

    Args:
        ranking: A ranking.

    Returns:
        The rescaled ranking, same keys and order.

    """
    if not ranking:
        return {}
    values = np.fromiter(ranking.values(), dtype=np.float64, count=len(ranking))
    low, span = values.min(), values.max() - values.min()
    scaled = (values - low) / span if span > 0 else np.ones_like(values)
    return dict(zip(ranking, scaled.tolist(), strict=True))


def convex(dense: Ranking, lexical: Ranking, w: float) -> dict[str, float]:
    """``w * dense + (1 - w) * lexical`` of min-max-normalised scores; an absent id scores 0.

    Args:
        dense: The dense ranking.
        lexical: The lexical ranking.
        w: The dense weight, in ``[0, 1]``.

    Returns:
        The fused ranking.

    Raises:
        ValueError: If ``w`` is outside ``[0, 1]``.

    """
    if not 0.0 <= w <= 1.0:
        raise ValueError(f"the dense weight w must be in [0, 1], got {w}.")
    fused = {doc_id: w * score for doc_id, score in minmax(dense).items()}
    for doc_id, score in minmax(lexical).items():
        fused[doc_id] = fused.get(doc_id, 0.0) + (1.0 - w) * score
    return _ordered(fused)


def per_query_ndcg(rankings: Sequence[Ranking], relevant: Sequence[AbstractSet[str]]) -> np.ndarray:
    """nDCG@10 of each query's ranking (through the probe's ``per_query_metrics``).

    Args:
        rankings: One ranking per query.
        relevant: The relevant ids of each query.

    Returns:
        ``(n_queries,)`` float64 array.

    Raises:
        ValueError: If the two sequences differ in length.

    """
    from autoembedding.metrics import per_query_metrics

    if len(rankings) != len(relevant):
        raise ValueError(f"got {len(rankings)} rankings but {len(relevant)} relevant sets.")
    out = np.zeros(len(rankings), dtype=np.float64)
    for q, ranking in enumerate(rankings):
        ranked = _ordered(dict(ranking))
        # the ranking's own scores: tied documents rank relevant-last (pessimistic ties)
        scores = np.fromiter(ranked.values(), dtype=np.float64, count=len(ranked))[None, :]
        out[q] = per_query_metrics(scores, list(ranked), [relevant[q]])["ndcg@10"][0]
    return out


@dataclass(frozen=True)
class WeightChoice:
    """The result of :func:`choose_convex_weight`.

    Attributes:
        weight: The dense weight chosen on all queries (the one to serve).
        ndcg: Out-of-fold nDCG@10 per query: each query scored with the weight chosen on the
            other folds only. Its mean estimates the served weight's quality without bias.
        fold: The fold of each query.
        fold_weights: The weight chosen for (that is, without) each fold.

    """

    weight: float
    ndcg: np.ndarray
    fold: np.ndarray
    fold_weights: tuple[float, ...]


def choose_convex_weight(
    per_query_dense: Sequence[Ranking],
    per_query_lexical: Sequence[Ranking],
    relevant: Sequence[AbstractSet[str]],
    grid: Sequence[float] = DEFAULT_GRID,
    folds: int = 5,
    seed: int = 0,
) -> WeightChoice:
    """Pick the convex weight by k-fold cross-validation over queries.

    Queries are shuffled (``seed``) into ``min(folds, n)`` folds. For each fold the weight with
    the best mean nDCG@10 on the *other* folds scores that fold's queries; ties go to the
    earliest weight in ``grid``. The served weight is then chosen the same way on all queries.

    Args:
        per_query_dense: The dense ranking of each query.
        per_query_lexical: The lexical ranking of each query, same order.
        relevant: The relevant ids of each query.
        grid: Dense weights to try, in ``[0, 1]``.
        folds: Number of folds (leave-one-out when it is at least the number of queries).
        seed: Seed of the fold assignment.

    Returns:
        The chosen weight and the out-of-fold per-query nDCG@10.

    Raises:
        ValueError: With fewer than 2 queries, mismatched lengths, an empty grid or
            ``folds < 2``.

    """
    n = len(relevant)
    if len(per_query_dense) != n or len(per_query_lexical) != n:
        raise ValueError("per_query_dense, per_query_lexical and relevant differ in length.")
    if n < 2 or folds < 2 or not grid:
        raise ValueError(f"need >= 2 queries, folds >= 2 and a grid (got {n}, {folds}, {grid}).")
    # ndcg[g, q]: query q fused with grid weight g; a query's value does not depend on the fold.
    ndcg = np.stack(
        [
            per_query_ndcg(
                [
                    convex(d, lx, w)
                    for d, lx in zip(per_query_dense, per_query_lexical, strict=True)
                ],
                relevant,
            )
            for w in grid
        ]
    )
    fold = np.empty(n, dtype=np.int64)
    for f, members in enumerate(
        np.array_split(np.random.default_rng(seed).permutation(n), min(folds, n))
    ):
        fold[members] = f
    oof = np.zeros(n, dtype=np.float64)
    fold_weights = []
    for f in range(int(fold.max()) + 1):
        held = fold == f
        best = int(np.argmax(ndcg[:, ~held].mean(axis=1)))
        oof[held] = ndcg[best, held]
        fold_weights.append(float(grid[best]))
    weight = float(grid[int(np.argmax(ndcg.mean(axis=1)))])
    return WeightChoice(weight=weight, ndcg=oof, fold=fold, fold_weights=tuple(fold_weights))
