"""Time each part of a query as ``AutoRetriever`` serves it, on the whole collection.

:class:`Serving` holds what is shared by the candidates of a probe (the collection's size, its
handle, the random vectors) and assembles each candidate's latency from its parts
(:mod:`.latency`). :func:`bm25_timings` times a BM25 search on an index as large as the
collection. What each part stands for, and how honest it is, is in ``docs/selector.md``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from autoembedding.candidates import CandidateResult
from autoembedding.probe.latency import (
    ABANDONED_WAIT_S,
    HYBRID_DEPTH,
    N_LATENCY_QUERIES,
    SERVE_K,
    VECTOR_FLOATS_CAP,
    WARM_UP_QUERIES,
    Timing,
    p95_interval,
    scaled_timing,
    timed,
)

if TYPE_CHECKING:
    from autoembedding.lexical import BM25Index
    from autoembedding.probe.measure import Model

__all__ = ["BM25_DOCS_CAP", "Serving", "bm25_timings"]

#: Largest BM25 index built to time a served query (about a second to build on 2 cores); a
#: larger collection's query time is extrapolated from this size and a quarter of it.
BM25_DOCS_CAP = 10_000


def _vector_search_ms(matrix: np.ndarray, k: int, seed: int, wait_s: float) -> Timing:
    """Exact top-``k`` inner-product search over the rows of ``matrix`` (random vectors)."""
    rng = np.random.default_rng(seed + 1)
    queries = rng.standard_normal(
        (N_LATENCY_QUERIES + WARM_UP_QUERIES, matrix.shape[1]), dtype=np.float32
    )
    k = min(k, len(matrix))

    def search(i: int) -> None:
        scores = matrix @ queries[i % len(queries)]
        top = np.argpartition(-scores, k - 1)[:k]
        top[np.argsort(-scores[top])]

    return timed(search, wait_s=wait_s)


class Serving:
    """What a served query costs around the model, on the whole collection, as the probe times it.

    ``AutoRetriever`` (:class:`~autoembedding.retrieval.search.Searcher`) serves a query as:

    * dense: ``embed_query``, then the collection's vector query of ``k`` results (a top-``k``
      search and reading those documents);
    * BM25: the collection's count (the index is checked against it), a BM25 search of the
      collection's index, then reading the ``k`` documents;
    * hybrid: the dense query and the BM25 search at depth :data:`HYBRID_DEPTH`, the fusion,
      then reading the fused top-``k`` documents the dense side did not return.

    The vector search is timed as an exact top-``k`` over random vectors of the candidate's
    dimension, as many as the collection holds (over :data:`VECTOR_FLOATS_CAP` values,
    extrapolated: :func:`scaled_timing`). Reading documents and the count are timed on the
    collection itself when the probe reads one; for ``documents=[...]`` there is no store and
    they cost nothing. Each part is timed once per probe (cached) and shared by candidates.

    Args:
        docs: Documents of the collection served (``0``: unknown, set by :meth:`configure`).
        store: The Chroma collection probed, or ``None``.
        ids: Ids of documents in ``store`` (read when timing a fetch).
        seed: Seed of the random vectors and the p95 intervals.
    """

    def __init__(
        self, docs: int = 0, store: Any = None, ids: Sequence[str] = (), seed: int = 0
    ) -> None:
        self.docs = int(docs)
        self.store = store
        self.ids = list(ids)
        self.seed = seed
        #: ``time.perf_counter()`` of the probe's hard deadline (bounds waits), or ``None``.
        self.deadline: float | None = None
        #: Candidate label -> the parts its latency was assembled from (hybrids reuse them).
        self.parts: dict[str, dict[str, Timing]] = {}
        self._vector: dict[tuple[int, int, int], Timing] = {}
        self._fetch: dict[int, Timing] = {}
        self._count: Timing | None = None
        self._matrix: np.ndarray | None = None

    def configure(self, docs: int, store: Any = None, ids: Sequence[str] = ()) -> None:
        """Set the collection served (its size, its handle, ids to read) and forget timings."""
        self.docs, self.store, self.ids = max(int(docs), 1), store, list(ids)
        self.forget()

    def wait_s(self) -> float:
        """Seconds a timing may wait for abandoned workers: a quarter of the budget left."""
        if self.deadline is None:
            return ABANDONED_WAIT_S
        return min(ABANDONED_WAIT_S, max(self.deadline - time.perf_counter(), 0.0) / 4)

    def _random(self, rows: int, dim: int) -> np.ndarray:
        """``rows`` random ``dim``-d float32 vectors (the last made is kept: both depths)."""
        if self._matrix is None or self._matrix.shape != (rows, dim):
            self._matrix = None  # free the old one first
            rng = np.random.default_rng(self.seed)
            self._matrix = rng.standard_normal((rows, dim), dtype=np.float32)
        return self._matrix

    def forget(self) -> None:
        """Drop the cached part timings (they are taken again on next use: a re-measurement)."""
        self._matrix = None
        self._vector.clear()
        self._fetch.clear()
        self._count = None

    def vector(self, dim: int, k: int = SERVE_K, pool: int = 0) -> Timing:
        """Milliseconds of a top-``k`` vector search over the collection at ``dim``.

        Args:
            dim: The vectors' dimension.
            k: Results.
            pool: Documents to search when the collection's size is unknown (not configured).
        """
        docs = self.docs or max(int(pool), 1)
        key = (int(dim), int(k), docs)
        if key not in self._vector:
            cap = max(VECTOR_FLOATS_CAP // max(int(dim), 1), 1)
            self._vector[key] = scaled_timing(
                lambda rows: _vector_search_ms(
                    self._random(rows, key[0]), key[1], self.seed, self.wait_s()
                ),
                docs,
                cap,
                f"random {key[0]}-d float32 vectors (exact top-{key[1]})",
            )
        return self._vector[key]

    def fetch(self, k: int = SERVE_K) -> Timing:
        """Milliseconds of reading ``k`` documents and their metadata from the store."""
        k = max(int(k), 0)
        if k == 0 or self.store is None or not self.ids:
            return Timing([], basis="no store" if self.store is None else "")
        if k not in self._fetch:
            ids, store = self.ids, self.store

            def read(i: int) -> None:
                some = [ids[(i * k + j) % len(ids)] for j in range(min(k, len(ids)))]
                store.get(ids=some, include=["documents", "metadatas"])

            self._fetch[k] = self._store_timing(read, f"read {k} documents from the collection")
        return self._fetch[k]

    def count(self) -> Timing:
        """Milliseconds of the collection's count (a BM25 query checks its index against it)."""
        if self.store is None:
            return Timing([], basis="no store")
        if self._count is None:
            store = self.store
            self._count = self._store_timing(lambda i: store.count(), "the collection's count")
        return self._count

    def _store_timing(self, call: Callable[[int], object], what: str) -> Timing:
        try:
            got = timed(call, wait_s=self.wait_s())
        except Exception as exc:  # noqa: BLE001 - a store that cannot be timed: say so
            return Timing([], basis=f"{what} not timed ({type(exc).__name__}: {exc})")
        got.basis = what
        return got

    def dense(self, result: CandidateResult, model: Model, dim: int) -> None:
        """A dense candidate's served latency: its model's queries, the search, the read."""
        if not model.latencies_ms:
            return
        embed = Timing(list(model.latencies_ms), model.latency_contended, "embed_query")
        self.assemble(
            result,
            {
                "embed": embed,
                "vector search": self.vector(dim, SERVE_K, model.docs_encoded),
                "fetch": self.fetch(SERVE_K),
            },
        )

    def lexical(self, result: CandidateResult, bm25: Timing) -> None:
        """A BM25 candidate's served latency: the count, the search (``bm25``), the read."""
        parts = {"count": self.count(), "bm25 search": bm25, "fetch": self.fetch(SERVE_K)}
        self.assemble(result, parts)

    def hybrid(
        self,
        result: CandidateResult,
        embed: Timing,
        dim: int,
        bm25: Timing,
        fusion_ms: Sequence[float],
        missing: int,
        pool: int = 0,
    ) -> None:
        """A hybrid's served latency, as ``Searcher.search`` runs it.

        The dense query (``embed``, a vector search and reading :data:`~.latency.HYBRID_DEPTH`
        documents), the collection's count, the BM25 search at that depth (``bm25``), the
        fusion, and reading the ``missing`` fused top documents the dense side lacked (``pool``:
        documents searched when the collection's size is unknown).
        """
        parts = {
            "embed": embed,
            "vector search": self.vector(dim, HYBRID_DEPTH, pool),
            "fetch": self.fetch(HYBRID_DEPTH),
            "count": self.count(),
            "bm25 search": bm25,
            "fusion": Timing(list(fusion_ms)),
            "fetch missing": self.fetch(missing),
        }
        self.assemble(result, parts)

    def assemble(self, result: CandidateResult, parts: dict[str, Timing]) -> None:
        """Write a candidate's query p50/p95 and latency facts from its parts' timings.

        Query ``i``'s latency is the sum of each part's ``i``-th timed value (a part with fewer
        values is cycled; one with none costs nothing). ``result.latency`` gets the p95's
        bootstrap interval, the number of queries, each part's median and basis, the
        collection size and whether any part was ``contended``.
        """
        timed_parts = {name: t for name, t in parts.items() if t.ms}
        if not timed_parts:
            return
        n = max(len(t.ms) for t in timed_parts.values())
        total = [sum(t.ms[i % len(t.ms)] for t in timed_parts.values()) for i in range(n)]
        self.parts[result.candidate.label] = dict(parts)
        result.query_p50_ms = float(np.percentile(total, 50))
        result.query_p95_ms = float(np.percentile(total, 95))
        low, high = p95_interval(total, self.seed)
        result.latency = {
            "n_queries": n,
            "p95_interval_ms": [low, high],
            "collection_docs": self.docs,
            "parts_p50_ms": {k: float(np.median(t.ms)) for k, t in timed_parts.items()},
            "basis": {k: t.basis for k, t in parts.items() if t.basis},
            "contended": any(t.contended for t in parts.values()),
            "retimed": bool(result.latency.get("retimed")),
        }


def bm25_timings(index: BM25Index, texts: Sequence[str], docs: int) -> dict[int, Timing]:
    """Time one query's BM25 search on an index of ``docs`` documents, at both depths.

    The index holds ``index``'s tokenized documents (the pool's), repeated round-robin up to
    ``docs`` (each term's share of documents is the pool's, its posting lists the collection's
    length); over :data:`BM25_DOCS_CAP` documents the time is extrapolated
    (:func:`~.latency.scaled_timing`). The indexes are dropped once timed.

    Args:
        index: The pool's index.
        texts: Query texts (cycled).
        docs: Documents of the collection served.

    Returns:
        Depth (:data:`~.latency.SERVE_K`, :data:`~.latency.HYBRID_DEPTH`) -> the timing.
    """
    built: dict[int, BM25Index] = {}
    return {
        k: scaled_timing(
            partial(_time_search, index, built, texts, k),
            docs,
            BM25_DOCS_CAP,
            f"BM25 documents (the pool's, repeated: top-{k})",
        )
        for k in (SERVE_K, HYBRID_DEPTH)
    }


def _time_search(
    pool: BM25Index, built: dict[int, BM25Index], texts: Sequence[str], k: int, n: int
) -> Timing:
    """Time a top-``k`` search of an ``n``-document index (built once, kept in ``built``)."""
    if n not in built:
        built[n] = _resampled(pool, n)
    index = built[n]
    return timed(lambda i: index.search(texts[i % len(texts)], k))


def _resampled(pool: BM25Index, n: int) -> BM25Index:
    """A BM25 index of ``n`` documents: ``pool``'s tokens, repeated round-robin."""
    from autoembedding.lexical import BM25Index

    tokens = pool._tokens or [[]]
    index = BM25Index(pool.tokenizer)
    index.ids = [f"served-{i}" for i in range(n)]
    index._tokens = [tokens[i % len(tokens)] for i in range(n)]
    index._reindex(time.perf_counter())
    return index
