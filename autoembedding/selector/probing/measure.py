"""One model's work in one stage of the probe, made inside the time box's worker thread.

:func:`measure` loads the model (first stage), times single queries, encodes the stage's pool
documents, queries and contradiction pairs to raw vectors, and builds one view per candidate.
Encoding stops between steps of two batches once the time box gives up (``cancel`` is set), so an
abandoned run does not keep a native library busy (:mod:`.timebox`).

Latency is the served retriever's (:class:`Serving`): what ``AutoRetriever`` would spend on one
query over the user's whole collection, not the model's ``embed_query`` alone. Each part is
timed on its own, after a warm-up, on :data:`N_LATENCY_QUERIES` queries, and a query's latency
is the sum of its parts (see :meth:`Serving.assemble` and ``docs/selector.md``). A timing waits
for abandoned time-boxed workers to return first, and is marked ``contended`` when one still
runs (:func:`~.timebox.wait_abandoned`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from autoembedding.adapters.base import BaseAdapter, Precision
from autoembedding.selector.probing.stages import Stage
from autoembedding.selector.probing.timebox import abandoned_running, wait_abandoned
from autoembedding.selector.types import Candidate, CandidateResult

if TYPE_CHECKING:
    from autoembedding.selector.probing.contradiction import ContradictionPair

__all__ = [
    "ABANDONED_WAIT_S",
    "CALIBRATION_DOCS",
    "HYBRID_DEPTH",
    "LATENCY_TIME_S",
    "MIN_LATENCY_QUERIES",
    "N_LATENCY_QUERIES",
    "SERVE_K",
    "VECTOR_FLOATS_CAP",
    "WARM_UP_QUERIES",
    "Model",
    "ModelRun",
    "Serving",
    "Timing",
    "TooSlowForBudget",
    "check_vectors",
    "measure",
    "p95_interval",
    "predict_doc_s",
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


@dataclass
class Model:
    """One underlying model, run once per stage, and the candidates derived from it.

    Attributes:
        base: The float32, native-dimension adapter that encodes (built on first use unless the
            user passed one).
        variants: The candidates derived from it.
        views: One view of ``base`` per candidate label (kept across stages: int8 calibration
            happens once).
        doc_raw: Raw document vectors, one array per stage.
        query_raw: Raw query vectors, one array per stage.
        doc_seconds: Time spent encoding documents.
        docs_encoded: Documents encoded.
        latencies_ms: Single-query ``embed_query`` latencies (the embedding part of a query).
        latency_contended: Whether they were timed while an abandoned worker still ran.
        stage_s: Seconds its last stage's work took (loading and latency timing left out).
        stage_docs: Pool documents that stage added (with ``stage_s``, the rate that predicts
            the next stage's time).
    """

    base: BaseAdapter | None
    variants: list[Candidate] = field(default_factory=list)
    views: dict[str, BaseAdapter] = field(default_factory=dict)
    doc_raw: list[np.ndarray] = field(default_factory=list)
    query_raw: list[np.ndarray] = field(default_factory=list)
    doc_seconds: float = 0.0
    docs_encoded: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    latency_contended: bool = False
    stage_s: float = 0.0
    stage_docs: int = 0

    def predict_s(self, n_docs: int) -> float:
        """Seconds its work on a stage of ``n_docs`` pool documents should take (0: unknown)."""
        return self.stage_s * n_docs / self.stage_docs if self.stage_docs else 0.0


@dataclass
class ModelRun:
    """What one model's work in one stage produced (made inside the time box).

    Attributes:
        views: One view of the model per live candidate label.
        load_s: Load time of the model.
        latencies_ms: Single-query latencies measured in this stage (first stage only).
        doc_raw: Raw vectors of the stage's pool documents.
        doc_seconds: Time spent encoding them.
        query_raw: Raw vectors of the stage's queries.
        contradiction: Contradiction score per candidate label (first stage only).
        latency_s: Wall seconds the latency timing took (its wait for abandoned workers and
            warm-up included): left out of the stage's time that predicts the next stage.
    """

    views: dict[str, BaseAdapter]
    load_s: float
    latencies_ms: list[float]
    doc_raw: np.ndarray
    doc_seconds: float
    query_raw: np.ndarray
    contradiction: dict[str, float] = field(default_factory=dict)
    latency_s: float = 0.0


class _Cancelled(Exception):
    """The time box gave up on this work (nobody waits for the result any more)."""


#: First-stage documents timed before a model commits to the stage under a budget.
CALIBRATION_DOCS = 4


class TooSlowForBudget(TimeoutError):
    """A model's documents, timed on a few, would not fit in what the budget leaves it.

    Args:
        per_doc_s: Predicted seconds per document of the sample (:func:`predict_doc_s`).
        sample_docs: Documents in the probe's whole sample.
        afford_s: Seconds the budget leaves this model for the whole sample.
    """

    def __init__(self, per_doc_s: float, sample_docs: int, afford_s: float) -> None:
        self.need_s = per_doc_s * sample_docs
        super().__init__(
            f"embedding the {sample_docs}-document sample would take it ~{self.need_s:.0f} s "
            f"({per_doc_s:.2f} s a document, timed on {CALIBRATION_DOCS} and scaled by length) "
            f"but the budget leaves ~{max(afford_s, 0.0):.0f} s"
        )


#: Characters per token assumed to cap a text's length at the model's token limit.
_CHARS_PER_TOKEN = 4


def predict_doc_s(
    head_s: float, head: Sequence[str], pool: Sequence[str], max_tokens: int | None = None
) -> float:
    """Seconds per document of ``pool``, from ``head_s`` seconds spent on the texts ``head``.

    The time is scaled by length (characters, each text capped at ``max_tokens`` tokens of
    about :data:`_CHARS_PER_TOKEN` characters, where the model truncates, plus one per text),
    so a few short documents timed first do not make a model of long documents look fast.

    Args:
        head_s: Seconds spent embedding ``head``.
        head: The texts timed.
        pool: The texts whose mean cost is predicted (``head`` may be among them).
        max_tokens: The model's token limit, if known.
    """
    cap = max_tokens * _CHARS_PER_TOKEN if max_tokens else None

    def cost(texts: Sequence[str]) -> float:
        return float(sum(min(len(t), cap) if cap else len(t) for t in texts)) + len(texts)

    if not head or not pool:
        return head_s / max(len(head), 1)
    return head_s / cost(head) * cost(pool) / len(pool)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise _Cancelled


def _encode(
    adapter: BaseAdapter, texts: list[str], *, is_query: bool, cancel: threading.Event | None
) -> np.ndarray:
    """``adapter.encode_raw(texts)``, stopping between batches once ``cancel`` is set.

    Texts go longest first in steps of two batches (as the adapters sort them: little padding),
    so an abandoned run stops within one step and does not keep native threads busy.
    """
    if cancel is None or not texts:
        return adapter.encode_raw(texts, is_query=is_query)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    step = 2 * max(int(getattr(adapter, "batch_size", 32) or 32), 1)
    out: np.ndarray | None = None
    for start in range(0, len(order), step):
        _check(cancel)
        idx = order[start : start + step]
        vectors = adapter.encode_raw([texts[i] for i in idx], is_query=is_query)
        if out is None:
            out = np.empty((len(texts), vectors.shape[1]), dtype=vectors.dtype)
        out[idx] = vectors
    assert out is not None  # texts is not empty
    return out


def measure(
    model: Model,
    variants: list[Candidate],
    stage: Stage,
    pairs: Sequence[ContradictionPair],
    *,
    first: bool,
    cancel: threading.Event | None = None,
    afford_s: float | None = None,
    sample_docs: int = 0,
) -> ModelRun:
    """One model's work in one stage (runs in the time box's worker thread).

    With ``afford_s`` (first stage, under a budget), the first :data:`CALIBRATION_DOCS`
    documents are timed right after loading; if the whole sample (``sample_docs``) would take
    longer than ``afford_s`` at that rate, scaled by the stage's document lengths
    (:func:`predict_doc_s`), :class:`TooSlowForBudget` is raised before any more time is spent
    on the model.
    """
    if model.base is None:
        first_cand = variants[0]
        model.base = Candidate(first_cand.model_id, None, "float32", first_cand.options).build()
        model.base.warn_truncation = False  # counted here, warned once by the probe
    elif first:  # a user's adapter: encode with a float32, native-dimension view of it
        model.base = model.base.view()
        model.base.warn_truncation, model.base.truncated_texts = False, 0
    adapter = model.base
    start = time.perf_counter()
    adapter.load()
    load_s = (
        adapter.load_seconds if adapter.load_seconds is not None else time.perf_counter() - start
    )
    query_texts = [q.text for q in stage.queries]
    texts = [d.text for d in stage.pool]
    _check(cancel)
    head, head_raw, head_s = 0, None, 0.0
    if afford_s is not None and sample_docs > len(texts) > CALIBRATION_DOCS:
        head = CALIBRATION_DOCS
        start = time.perf_counter()
        head_raw = _encode(adapter, texts[:head], is_query=False, cancel=cancel)
        head_s = time.perf_counter() - start
        max_tokens = getattr(getattr(adapter, "spec", None), "max_tokens", None)
        per_doc_s = predict_doc_s(head_s, texts[:head], texts, max_tokens)
        if per_doc_s * sample_docs > afford_s:
            raise TooSlowForBudget(per_doc_s, sample_docs, afford_s)
    began = time.perf_counter()
    timing = _latencies(adapter, query_texts if first else [], cancel)
    latency_s = time.perf_counter() - began
    if first:
        model.latency_contended = timing.contended
    latencies = timing.ms
    start = time.perf_counter()
    doc_raw = _encode(adapter, texts[head:], is_query=False, cancel=cancel)
    doc_seconds = time.perf_counter() - start + head_s
    if head_raw is not None:
        doc_raw = np.concatenate([head_raw, doc_raw])
    query_raw = _encode(adapter, query_texts, is_query=True, cancel=cancel)
    _check(cancel)
    name = variants[0].model_id
    check_vectors(name, doc_raw, "document", texts)
    check_vectors(name, query_raw, "query", query_texts)
    pair_raw = _encode_pairs(adapter, pairs) if pairs else None
    views = {
        c.label: model.views.get(c.label)
        or adapter.view(truncate_dim=c.truncate_dim, precision=cast(Precision, c.precision))
        for c in variants
    }
    for view in views.values():  # an int8 view calibrates on first use: here, in the time box
        view.postprocess(doc_raw[:1])
    run = ModelRun(views, load_s, latencies, doc_raw, doc_seconds, query_raw, latency_s=latency_s)
    if pair_raw is not None:
        run.contradiction = {
            label: _contradiction(view, *pair_raw) for label, view in views.items()
        }
    return run


def check_vectors(
    model_id: str, vectors: np.ndarray, what: str, texts: Sequence[str] | None = None
) -> None:
    """Refuse vectors a ranking cannot be made from: non-finite, or one vector for every text.

    Args:
        model_id: The model that made them (named in the error).
        vectors: ``(n_texts, dim)`` raw vectors.
        what: ``"document"`` or ``"query"``.
        texts: The texts the rows were made from, when known: the same vector for the same
            text is right, so rows are only refused as constant when their texts differ.

    Raises:
        BackendError: If a value is NaN or infinite, or every row is the same vector (two or
            more different texts), naming the model and what to do.
    """
    from autoembedding.errors import BackendError

    if vectors.size == 0:
        return
    finite = np.isfinite(vectors)
    if not finite.all():
        bad = int((~finite.all(axis=1)).sum())
        raise BackendError(
            f"{model_id} returned non-finite values (NaN or infinity) in {bad} of "
            f"{len(vectors)} {what} vectors, so its rankings would be meaningless; the probe "
            "leaves it out. Check the model's weights and precision (an fp16 overflow does "
            "this), or remove it from candidates."
        )
    distinct = len(vectors) if texts is None else len(set(texts))
    if distinct > 1 and not np.any(vectors != vectors[0]):
        raise BackendError(
            f"{model_id} returned the same vector for all {distinct} different {what} texts, so it "
            "cannot tell them apart; the probe leaves it out. Check that the model loaded its "
            "weights (not a fallback or a zero output), or remove it from candidates."
        )


def _latencies(
    adapter: BaseAdapter, texts: list[str], cancel: threading.Event | None = None
) -> Timing:
    """``embed_query`` milliseconds of single queries (after a warm-up; ``[]`` without texts)."""
    if not texts:
        return Timing([])
    return timed(lambda i: adapter.embed_query(texts[i % len(texts)]), cancel=cancel)


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
        _check(cancel)
        call(index)
    out: list[float] = []
    spent = 0.0
    for index in range(n):
        _check(cancel)
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


def _encode_pairs(
    adapter: BaseAdapter, pairs: Sequence[ContradictionPair]
) -> tuple[np.ndarray, np.ndarray]:
    """Raw vectors of the contradiction pairs: their queries, then originals and flipped twins."""
    queries = adapter.encode_raw([p.query for p in pairs], is_query=True)
    texts = [p.original for p in pairs] + [p.flipped for p in pairs]
    return queries, adapter.encode_raw(texts, is_query=False)


def _contradiction(view: BaseAdapter, queries: np.ndarray, texts: np.ndarray) -> float:
    """Share of pairs where the view ranks the original above its flipped twin."""
    from autoembedding.selector.probing.contradiction import contradiction_score_from_vectors

    n = len(queries)
    docs = view.postprocess(texts)
    return float(contradiction_score_from_vectors(view.postprocess(queries), docs[:n], docs[n:]))
