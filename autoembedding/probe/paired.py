"""Family-wise tests of the probe: non-inferiority p-values and Holm's correction.

The race drops a candidate only when a paired test shows it behind the leader, with Holm's
correction over the candidates compared and a Bonferroni split over the stages (the race
looks at the data once a stage); the selection keeps a cheaper candidate as a tie only when
its non-inferiority test survives Holm's correction over every variant tested.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from autoembedding.metrics import _scipy_stats

__all__ = ["holm", "noninferiority_pvalue"]


def noninferiority_pvalue(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, margin: float
) -> float:
    """One-sided p-value of ``H0: mean(a - b) >= margin`` from paired per-query values.

    Small when the data show that ``b`` loses less than ``margin`` against ``a``: the paired
    t-test of :func:`paired_upper_bound` (``p <= alpha`` exactly when that bound at
    ``1 - alpha`` is below ``margin``), as a p-value so a family of them can be corrected
    (:func:`holm`).

    Args:
        a: Per-query values of the reference candidate.
        b: Per-query values of the other, same queries in the same order.
        margin: The largest loss allowed.

    Returns:
        The p-value in ``[0, 1]``; ``1.0`` with fewer than 3 queries.

    Example:
        >>> noninferiority_pvalue([0.5, 0.6, 0.7], [0.5, 0.6, 0.7], 0.01)
        0.0
    """
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"paired values must have the same length, got {x.size} and {y.size}.")
    diff = x - y
    n = diff.size
    if n < 3:
        return 1.0
    mean, sd = float(diff.mean()), float(diff.std(ddof=1))
    if sd == 0.0:
        return 0.0 if mean < margin else 1.0
    t = (mean - margin) / (sd / math.sqrt(n))
    return float(_scipy_stats().t.cdf(t, n - 1))


def holm(pvalues: Sequence[float], alpha: float) -> list[bool]:
    """Holm's step-down rejections of a family of p-values at family-wise level ``alpha``.

    Example:
        >>> holm([0.01, 0.04, 0.03], 0.05)
        [True, False, False]
    """
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    out = [False] * len(pvalues)
    for step, i in enumerate(order):
        if pvalues[i] > alpha / (len(pvalues) - step):
            break
        out[i] = True
    return out
