"""A query's latency as ``AutoRetriever`` serves it on the user's whole collection.

The probe does not time a model's ``embed_query`` alone: :class:`~.serving.Serving` times each
part of a served query (:class:`~autoembedding.retrieval.search.Searcher`) on its own, after a
warm-up, on :data:`N_LATENCY_QUERIES` queries (:func:`timed`), and a query's latency is the sum
of its parts (:meth:`~.serving.Serving.assemble`): the p95 gets a bootstrap interval
(:func:`p95_interval`), and each part says how it was taken: measured on an index as large as
the collection, or extrapolated (:func:`scaled_timing`).

A timing first waits for abandoned time-boxed workers to return and is marked ``contended`` when
one still runs (:func:`~.timebox.wait_abandoned`); :func:`latency_verdict` judges a
``max_query_ms`` target on the p95's interval, so one spike does not drop a candidate.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from autoembedding.candidates import CandidateResult
from autoembedding.probe.timebox import abandoned_running, wait_abandoned

__all__ = [
    "ABANDONED_WAIT_S",
    "HYBRID_DEPTH",
    "LATENCY_TIME_S",
    "MIN_LATENCY_QUERIES",
    "N_LATENCY_QUERIES",
    "SERVE_K",
    "VECTOR_FLOATS_CAP",
    "WARM_UP_QUERIES",
    "Cancelled",
    "Timing",
    "check_cancel",
    "latency_verdict",
    "p95_interval",
    "scaled_timing",
    "timed",
]

#: Single queries timed for latency (after the warm-up; the stage's queries are cycled when it
#: has fewer) ...
N_LATENCY_QUERIES = 30
#: ... but a slow part stops after this many once LATENCY_TIME_S seconds are spent on it.
MIN_LATENCY_QUERIES = 10
LATENCY_TIME_S = 3.0
#: Untimed calls before the timed ones (lazy kernels, allocators, caches).
WARM_UP_QUERIES = 2
#: Seconds a timing waits for abandoned time-boxed workers to return before it times beside
#: them (and is marked ``contended``).
ABANDONED_WAIT_S = 5.0
#: Results of one served query (``AutoRetriever``'s default ``k``).
SERVE_K = 10
#: Documents each side of a served hybrid contributes (``Searcher``'s ``max(50, 5 * k)``).
HYBRID_DEPTH = 50
#: The vector search is timed exactly over at most this many random float32 values (32 MiB);
#: a larger collection's search time is extrapolated (:func:`scaled_timing`).
VECTOR_FLOATS_CAP = 8_000_000
#: Bootstrap resamples of the p95's interval.
_BOOTSTRAP = 1000


class Cancelled(Exception):
    """The time box gave up on this work (nobody waits for the result any more)."""


def check_cancel(cancel: threading.Event | None) -> None:
    """Raise :class:`Cancelled` once ``cancel`` is set (the work's next check point)."""
    if cancel is not None and cancel.is_set():
        raise Cancelled


@dataclass
class Timing:
    """Milliseconds of one part of a served query, one value per timed query.

    Attributes:
        ms: The timed calls, in order (warm-up calls left out).
        contended: Whether an abandoned time-boxed worker still ran while they were timed.
        basis: How they were taken, for the report (e.g. ``"exact over 5,000 random 384-d
            vectors"`` or ``"extrapolated ..."``); empty when they are the thing itself.
    """

    ms: list[float]
    contended: bool = False
    basis: str = ""


def timed(
    call: Callable[[int], object],
    n: int = N_LATENCY_QUERIES,
    *,
    cancel: threading.Event | None = None,
    budget_s: float = LATENCY_TIME_S,
    wait_s: float = ABANDONED_WAIT_S,
) -> Timing:
    """Time ``call(i)`` for ``n`` queries after :data:`WARM_UP_QUERIES` untimed calls.

    First waits up to ``wait_s`` for abandoned time-boxed workers to return
    (:func:`~.timebox.wait_abandoned`): a worker still inside a native call competes for the
    CPU, so timings taken beside one are marked ``contended``. Stops early, after at least
    :data:`MIN_LATENCY_QUERIES`, once ``budget_s`` seconds are spent (a slow part: enough to
    know it is slow; the p95's interval is wider).

    Args:
        call: One query's work; ``i`` is the query's index (warm-up calls get ``0``, ``1``...).
        n: Timed calls wanted.
        cancel: Stops the timing at the next call once set (the time box gave up).
        budget_s: Seconds of timed calls after which a slow part stops early.
        wait_s: Seconds to wait for abandoned workers first.

    Returns:
        The timed milliseconds and whether they were contended.
    """
    quiet = wait_abandoned(wait_s)
    for index in range(WARM_UP_QUERIES):
        check_cancel(cancel)
        call(index)
    out: list[float] = []
    spent = 0.0
    for index in range(n):
        check_cancel(cancel)
        start = time.perf_counter()
        call(WARM_UP_QUERIES + index)
        out.append((time.perf_counter() - start) * 1000.0)
        spent += out[-1] / 1000.0
        if len(out) >= MIN_LATENCY_QUERIES and spent > budget_s:
            break
    return Timing(out, contended=not quiet or abandoned_running() > 0)


def p95_interval(ms: Sequence[float], seed: int = 0) -> tuple[float, float]:
    """Bootstrap 95% interval of the p95 of ``ms`` (percentile method, seeded)."""
    values = np.asarray(ms, dtype=np.float64)
    if values.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    draws = values[rng.integers(0, values.size, size=(_BOOTSTRAP, values.size))]
    p95 = np.percentile(draws, 95, axis=1)
    return float(np.percentile(p95, 2.5)), float(np.percentile(p95, 97.5))


def scaled_timing(time_at: Callable[[int], Timing], docs: int, cap: int, what: str) -> Timing:
    """Time a search over ``docs`` documents, or extrapolate it when ``docs`` exceeds ``cap``.

    Over ``cap``, the search is timed at ``cap // 4`` and ``cap`` documents and each quantile of
    the timed values is extended linearly to ``docs`` (a search that scans its index grows
    linearly; one that does not grows slower, so this is an upper bound). The basis says so.

    Args:
        time_at: Times the search over an index of the given size.
        docs: Documents of the collection served.
        cap: Largest index that is built and timed.
        what: The index, for the basis (e.g. ``"random 384-d float32 vectors"``).
    """
    docs = max(int(docs), 1)
    if docs <= cap:
        got = time_at(docs)
        got.basis = f"timed over {docs:,} {what}"
        return got
    small, big = max(cap // 4, 1), cap
    low, high = time_at(small), time_at(big)
    n = min(len(low.ms), len(high.ms))
    q = np.linspace(0, 100, n)
    a, b = np.percentile(low.ms, q), np.percentile(high.ms, q)
    slope = np.maximum(b - a, 0.0) / (big - small)
    ms = [float(v) for v in b + slope * (docs - big)]
    return Timing(
        ms,
        contended=low.contended or high.contended,
        basis=(
            f"extrapolated (linear) to {docs:,} from {small:,} and {big:,} {what}: an upper "
            "bound for an index that does not scan every document"
        ),
    )


def latency_verdict(result: CandidateResult, limit: float) -> str:
    """Whether a query p95 meets ``max_query_ms``: ``"meets"``, ``"misses"`` or ``"undecided"``.

    ``misses`` only when the p95's bootstrap 95% interval lies wholly above ``limit`` and no
    part was timed beside an abandoned worker (``contended``); a p95 over the limit whose
    interval reaches it (one spike among the timed queries), or a contended timing, is
    ``undecided``: the race keeps the candidate and re-measures it once
    (:func:`~.race.retime_latency`) before the final judgement on the p95 itself.
    """
    p95 = result.query_p95_ms
    if p95 is None:
        return "misses"
    if p95 <= limit:
        return "meets"
    low = (result.latency.get("p95_interval_ms") or [p95])[0]
    if low > limit and not result.latency.get("contended"):
        return "misses"
    return "undecided"
