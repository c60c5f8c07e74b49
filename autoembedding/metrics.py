"""Retrieval metrics per query, bootstrap intervals and paired tests between candidates.

Everything here works on plain NumPy arrays, so the probe can compute per-query values once and
reuse them for means, confidence intervals and paired comparisons between candidates.

Example:
    >>> import numpy as np
    >>> scores = np.array([[0.9, 0.1, 0.5], [0.2, 0.3, 0.8]])
    >>> m = per_query_metrics(scores, ["a", "b", "c"], [{"a"}, {"b"}])
    >>> m["hit@1"].tolist(), m["mrr@10"].tolist()
    ([1.0, 0.0], [1.0, 0.5])

"""

from __future__ import annotations

import math
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Any

import numpy as np

from autoembedding.errors import MissingExtraError

__all__ = [
    "METRIC_NAMES",
    "bootstrap_ci",
    "first_relevant_rank",
    "kendall_tau",
    "paired_pvalue",
    "paired_upper_bound",
    "per_query_metrics",
    "pessimistic_order",
]

#: The metrics :func:`per_query_metrics` returns, in report order.
METRIC_NAMES: tuple[str, ...] = ("hit@1", "hit@3", "hit@5", "recall@10", "mrr@10", "ndcg@10")

_K = 10


def per_query_metrics(
    scores: np.ndarray,
    doc_ids: Sequence[str],
    relevant: Sequence[AbstractSet[str]],
) -> dict[str, np.ndarray]:
    """Per-query retrieval metrics from a query x document score matrix.

    Ties are ranked pessimistically: among documents with the same score, the relevant ones
    rank last, so a model that cannot tell documents apart (equal or constant scores) never
    gets credit from the pool's order; a non-finite score ranks below every finite one.
    Relevance is binary; nDCG@10 uses ``1 / log2(rank + 1)`` gains and the ideal
    ranking of ``min(len(relevant), 10)`` relevant documents. Relevant ids that are not in
    ``doc_ids`` still count in the recall denominator (they could not be found). A query with no
    relevant id scores 0 everywhere.

    Args:
        scores: ``(n_queries, n_docs)`` similarity scores, higher is better.
        doc_ids: Id of each column of ``scores``.
        relevant: For each query, the set of relevant document ids.

    Returns:
        Metric name (see :data:`METRIC_NAMES`) -> ``(n_queries,)`` float64 array.

    Raises:
        ValueError: If the shapes of ``scores``, ``doc_ids`` and ``relevant`` disagree.

    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (n_queries, n_docs), got shape {scores.shape}.")
    n_queries, n_docs = scores.shape
    if len(doc_ids) != n_docs:
        raise ValueError(f"scores has {n_docs} columns but {len(doc_ids)} doc_ids were given.")
    if len(relevant) != n_queries:
        raise ValueError(
            f"scores has {n_queries} rows but {len(relevant)} relevant sets were given."
        )
    out = {name: np.zeros(n_queries, dtype=np.float64) for name in METRIC_NAMES}
    if n_queries == 0 or n_docs == 0:
        return out
    k = min(_K, n_docs)
    ids = np.asarray(list(doc_ids), dtype=object)
    is_rel = _relevance_mask(ids, relevant)
    top = pessimistic_order(scores, is_rel)[:, :k]
    discounts = 1.0 / np.log2(np.arange(2, _K + 2))
    for q in range(n_queries):
        rel = relevant[q]
        if not rel:
            continue
        hits = is_rel[q, top[q]]
        if hits.any():
            first = int(np.argmax(hits))
            out["hit@1"][q] = float(first < 1)
            out["hit@3"][q] = float(first < 3)
            out["hit@5"][q] = float(first < 5)
            out["mrr@10"][q] = 1.0 / (first + 1)
        out["recall@10"][q] = hits.sum() / len(rel)
        ideal = discounts[: min(len(rel), _K)].sum()
        out["ndcg@10"][q] = float((discounts[:k] * hits).sum() / ideal)
    return out


def _relevance_mask(ids: np.ndarray, relevant: Sequence[AbstractSet[str]]) -> np.ndarray:
    """``(n_queries, n_docs)`` booleans: whether each column's id is relevant to each query."""
    out = np.zeros((len(relevant), len(ids)), dtype=bool)
    for q, rel in enumerate(relevant):
        if rel:
            out[q] = np.fromiter((doc in rel for doc in ids), dtype=bool, count=len(ids))
    return out


def pessimistic_order(scores: np.ndarray, is_relevant: np.ndarray) -> np.ndarray:
    """Column order of each row by descending score, relevant documents last among ties.

    Non-finite scores (NaN, infinities) rank below every finite score, so a broken row never
    finds anything by the pool's order.

    Example:
        >>> pessimistic_order(np.zeros((1, 3)), np.array([[True, False, False]])).tolist()
        [[1, 2, 0]]
    """
    keys = np.where(np.isfinite(scores), -scores, np.inf)
    return np.lexsort((is_relevant, keys), axis=-1)


def first_relevant_rank(
    scores: np.ndarray,
    doc_ids: Sequence[str],
    relevant: Sequence[AbstractSet[str]],
) -> np.ndarray:
    """1-based rank of each query's first relevant document over the whole ranking (0: none).

    Ties rank relevant documents last, as in :func:`per_query_metrics`, so ``hit@k`` for any
    ``k`` is ``(ranks >= 1) & (ranks <= k)``.

    Example:
        >>> first_relevant_rank(np.array([[0.1, 0.9, 0.5]]), ["a", "b", "c"], [{"c"}]).tolist()
        [2]
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape != (len(relevant), len(doc_ids)):
        raise ValueError(
            f"scores must have shape ({len(relevant)}, {len(doc_ids)}), got {scores.shape}."
        )
    ids = np.asarray(list(doc_ids), dtype=object)
    ranks = np.zeros(len(relevant), dtype=np.int64)
    is_rel = _relevance_mask(ids, relevant)
    order = pessimistic_order(scores, is_rel)
    for q, rel in enumerate(relevant):
        if rel:
            hits = is_rel[q, order[q]]
            if hits.any():
                ranks[q] = int(np.argmax(hits)) + 1
    return ranks


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean.

    Args:
        values: Per-query values.
        n_boot: Bootstrap resamples.
        seed: Seed of the resampling, for reproducible intervals.
        level: Coverage, e.g. ``0.95``.

    Returns:
        ``(low, high)``; ``(nan, nan)`` for no values. For values in ``[0, 1]``, an interval
        that would touch 0 or 1 (all queries scored 1, say) is widened to the Wilson interval
        of the mean, so it is never ``(1, 1)``; other values get ``(v, v)`` when constant.

    Raises:
        ValueError: If ``level`` is not in (0, 1) or ``n_boot`` < 1.

    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}.")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}.")
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0:
        return (math.nan, math.nan)
    if arr.size == 1 or np.all(arr == arr[0]):
        return _not_degenerate(arr, float(arr[0]), float(arr[0]), level)
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot, dtype=np.float64)
    # Resample in chunks to bound memory on large query sets.
    chunk = max(1, 2_000_000 // arr.size)
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        idx = rng.integers(0, arr.size, size=(stop - start, arr.size))
        means[start:stop] = arr[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return _not_degenerate(arr, float(low), float(high), level)


def _not_degenerate(arr: np.ndarray, low: float, high: float, level: float) -> tuple[float, float]:
    """Widen an interval of ``[0, 1]`` values that touches 0 or 1 to at least Wilson's.

    The percentile bootstrap of 100 queries that all score 1 is ``(1, 1)``: it claims a
    certainty 100 queries cannot give. For values in ``[0, 1]`` (every retrieval metric), the
    Wilson score interval of their mean as a proportion of ``n`` bounds the side that touches
    the edge (its variance ``p (1 - p)`` is the largest such values can have).
    """
    n = arr.size
    if n == 0 or arr.min() < 0.0 or arr.max() > 1.0:
        return (low, high)
    if low > 0.0 and high < 1.0 and high > low:
        return (low, high)
    z = float(_scipy_stats().norm.ppf(1.0 - (1.0 - level) / 2.0))
    p = float(arr.mean())
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (min(low, max(centre - half, 0.0)), max(high, min(centre + half, 1.0)))


def paired_pvalue(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    n_boot: int = 2000,
    seed: int = 0,
) -> float:
    """Two-sided p-value that two candidates have the same mean, from paired per-query values.

    A sign-flip permutation test on the differences ``a - b``: under H0 (``mean(a - b) == 0``,
    differences symmetric around 0) each difference is equally likely to have either sign. The
    p-value counts resamples whose absolute mean is at least the observed one, with the
    ``(count + 1) / (n + 1)`` correction so it is never 0.

    Args:
        a: Per-query values of the first candidate.
        b: Per-query values of the second, same queries in the same order.
        n_boot: Random sign flips.
        seed: Seed for reproducibility.

    Returns:
        The p-value in ``(0, 1]``; ``1.0`` when every difference is 0 or there are no queries.

    Raises:
        ValueError: If ``a`` and ``b`` differ in length.

    """
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"paired values must have the same length, got {x.size} and {y.size}.")
    diff = x - y
    if diff.size == 0 or not np.any(diff):
        return 1.0
    observed = abs(diff.mean())
    rng = np.random.default_rng(seed)
    count = 0
    chunk = max(1, 2_000_000 // diff.size)
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        signs = rng.integers(0, 2, size=(stop - start, diff.size)) * 2 - 1
        means = np.abs((signs * diff).mean(axis=1))
        count += int((means >= observed - 1e-12).sum())
    return float((count + 1) / (n_boot + 1))


def paired_upper_bound(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    level: float = 0.95,
) -> float:
    """One-sided upper confidence bound on ``mean(a - b)`` from paired per-query values.

    This is the non-inferiority test of the selection rule: candidate ``b`` is shown to be at
    most ``margin`` worse than ``a`` when this bound is ``<= margin``. Few or noisy queries give
    a wide bound, so "the data cannot tell them apart" is never mistaken for "they are equal".
    The bound is ``mean + t * sd / sqrt(n)`` with Student's t quantile at ``level`` and
    ``n - 1`` degrees of freedom (``scipy.stats.t.ppf``).

    Args:
        a: Per-query values of the reference candidate.
        b: Per-query values of the other, same queries in the same order.
        level: One-sided confidence level, in ``(0.5, 1)``.

    Returns:
        The bound; ``inf`` with fewer than 3 queries (too few to bound anything).

    Raises:
        ValueError: If ``a`` and ``b`` differ in length, or ``level`` is outside ``(0.5, 1)``.

    Example:
        >>> round(paired_upper_bound([0.5, 0.6, 0.7, 0.8], [0.5, 0.6, 0.7, 0.8]), 6)
        0.0

    """
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"paired values must have the same length, got {x.size} and {y.size}.")
    if not 0.5 < level < 1.0:
        raise ValueError(f"level must be in (0.5, 1), got {level}.")
    diff = x - y
    n = diff.size
    if n < 3:
        return math.inf
    sd = float(diff.std(ddof=1))
    t_quantile = float(_scipy_stats().t.ppf(level, n - 1))
    return float(diff.mean() + t_quantile * sd / math.sqrt(n))


def _scipy_stats() -> Any:
    """``scipy.stats``, imported on first use (it takes a second or more to import)."""
    try:
        from scipy import stats
    except ImportError as exc:
        raise MissingExtraError(
            "scipy is not installed; the probe's statistics need it. Install it with: "
            f"pip install 'autoembedding[selector]' ({exc})"
        ) from exc
    return stats


def kendall_tau(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Kendall's tau-b between two score lists over the same items (``scipy.stats.kendalltau``).

    Args:
        a: One score per item (e.g. probe nDCG@10 per candidate).
        b: The other score per item (e.g. ground-truth nDCG@10), same order.

    Returns:
        Tau in ``[-1, 1]``; ``nan`` when either list is constant or has fewer than 2 items.

    Raises:
        ValueError: If the lists differ in length.

    """
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"kendall_tau needs equal lengths, got {x.size} and {y.size}.")
    if x.size < 2:
        return math.nan
    return float(_scipy_stats().kendalltau(x, y, variant="b").statistic)
