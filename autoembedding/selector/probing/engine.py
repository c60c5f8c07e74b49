"""Run each model once per stage, time it, and score every candidate derived from it.

Candidates that share a model (``"id"``, ``"id@256"``, ``"id:int8"``) share one underlying run:
the model encodes raw vectors with :meth:`~autoembedding.adapters.base.BaseAdapter.encode_raw`,
and each candidate is a :meth:`~autoembedding.adapters.base.BaseAdapter.view` of it whose
:meth:`~autoembedding.adapters.base.BaseAdapter.postprocess` truncates, normalises and quantises
(an int8 view calibrates itself). A model's work in a stage is time-boxed; a model that crashes
or runs over fails all of its candidates, and the probe goes on.

Lexical (``bm25``) and hybrid candidates run beside the models (:mod:`.lexical_run`): BM25 indexes
each stage's pool and scores the queries; a hybrid fuses its dense part's scores with BM25's
(:mod:`.hybrid`). A dense candidate that a live hybrid fuses keeps being encoded after it is
dropped, so the hybrid is scored on every query.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from autoembedding.adapters.base import BaseAdapter, Precision
from autoembedding.errors import AutoEmbeddingError
from autoembedding.selector.probing.candidates import ResolvedCandidate
from autoembedding.selector.probing.lexical_run import LexicalSide
from autoembedding.selector.probing.queries import ProbeDoc, ProbeQuery
from autoembedding.selector.probing.stages import Stage
from autoembedding.selector.probing.timebox import run_with_timeout
from autoembedding.selector.types import Candidate, CandidateResult

if TYPE_CHECKING:
    from autoembedding.selector.probing.contradiction import ContradictionPair

__all__ = ["Engine", "Model", "ModelRun", "contradiction_pairs"]

#: Single queries timed for latency (after one warm-up) ...
N_LATENCY_QUERIES = 15
#: ... but a slow model stops after this many once LATENCY_TIME_S seconds are spent.
MIN_LATENCY_QUERIES = 5
LATENCY_TIME_S = 3.0
#: Contradiction pairs per model.
N_CONTRADICTION = 20


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
        latencies_ms: Single-query latencies.
    """

    base: BaseAdapter | None
    variants: list[Candidate] = field(default_factory=list)
    views: dict[str, BaseAdapter] = field(default_factory=dict)
    doc_raw: list[np.ndarray] = field(default_factory=list)
    query_raw: list[np.ndarray] = field(default_factory=list)
    doc_seconds: float = 0.0
    docs_encoded: int = 0
    latencies_ms: list[float] = field(default_factory=list)


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
    """

    views: dict[str, BaseAdapter]
    load_s: float
    latencies_ms: list[float]
    doc_raw: np.ndarray
    doc_seconds: float
    query_raw: np.ndarray
    contradiction: dict[str, float] = field(default_factory=dict)


def contradiction_pairs(
    docs: Sequence[ProbeDoc], seed: int, notes: list[str]
) -> list[ContradictionPair]:
    """Minimal contradiction pairs cut from the sample (none, with a note, when there are none)."""
    try:
        from autoembedding.selector.probing.contradiction import build_contradiction_pairs

        pairs = build_contradiction_pairs(docs, n=min(N_CONTRADICTION, len(docs)), seed=seed)
    except (ImportError, ValueError, AutoEmbeddingError) as exc:
        notes.append(f"Contradiction probe skipped: {exc}")
        return []
    if not pairs:
        notes.append("Contradiction probe skipped: no negatable sentence found.")
    return list(pairs)


class Engine:
    """The models, the candidates' results, and what the stages so far have added.

    Args:
        cands: The resolved candidates; those sharing a model (and options, and adapter
            object) share one :class:`Model`.
        timeout: Time box of one model's work in one stage, in seconds.
        seed: Seed of the bootstrap intervals.
        lexical: The ``bm25`` candidates.
        hybrids: Hybrid candidates asked for by label (their parts must be candidates too).
        auto_hybrids: Whether :meth:`add_hybrids` adds both fusions of each surviving dense
            candidate with the first BM25 candidate.
    """

    def __init__(
        self,
        cands: Sequence[ResolvedCandidate],
        timeout: float,
        seed: int,
        *,
        lexical: Sequence[Candidate] = (),
        hybrids: Sequence[Candidate] = (),
        auto_hybrids: bool = False,
    ) -> None:
        self.timeout = timeout
        self.seed = seed
        self.models: dict[tuple[Any, ...], Model] = {}
        self.results: dict[str, CandidateResult] = {}
        for cand, adapter in cands:
            if cand.label in self.results:
                continue
            key = (cand.model_id, cand.options, id(adapter) if adapter is not None else None)
            model = self.models.setdefault(key, Model(adapter))
            model.variants.append(cand)
            self.results[cand.label] = CandidateResult(candidate=cand)
        self.pool_ids: list[str] = []
        self.queries: list[ProbeQuery] = []
        self.lexical = LexicalSide(
            self.results, lexical, hybrids, timeout, seed, auto_hybrids=auto_hybrids
        )
        #: Dense label -> its (n_queries, n_docs) similarities at the last scoring.
        self.dense_scores: dict[str, np.ndarray] = {}

    @property
    def n_docs(self) -> int:
        """Documents in the search pool so far."""
        return len(self.pool_ids)

    @property
    def n_queries(self) -> int:
        """Probe queries so far."""
        return len(self.queries)

    def alive(self, model: Model) -> list[Candidate]:
        """The model's candidates that have neither failed nor been dropped."""
        return [c for c in model.variants if _in_race(self.results[c.label])]

    def needed(self, model: Model) -> list[Candidate]:
        """The model's candidates to run: those in the race and those a live hybrid fuses."""
        fused = self.lexical.dense_needed()
        return [
            c
            for c in model.variants
            if self.results[c.label].error is None
            and (_in_race(self.results[c.label]) or c.label in fused)
        ]

    def contenders(self) -> list[CandidateResult]:
        """Results of the candidates still in the race."""
        return [r for r in self.results.values() if _in_race(r)]

    def run_stage(
        self,
        stage: Stage,
        pairs: Sequence[ContradictionPair],
        *,
        first: bool,
        on_model: Callable[[int, int, str], None] | None = None,
    ) -> None:
        """Run every live model on a stage's new documents and queries.

        Args:
            stage: The documents and queries this stage adds.
            pairs: Contradiction pairs to score (the first stage's only).
            first: Whether this is the first stage (load time, latency, dims are measured).
            on_model: Called ``(index, count, model_id)`` before each model runs.
        """
        self.pool_ids += [d.id for d in stage.pool]
        self.queries += stage.queries
        live = [m for m in self.models.values() if self.needed(m)]
        for index, model in enumerate(live):
            if on_model is not None:
                on_model(index, len(live), model.variants[0].model_id)
            self._run_model(model, stage, pairs, first=first)
        self.lexical.run_stage(stage, self.queries)

    def add_hybrids(self) -> list[Candidate]:
        """Add hybrids of the dense candidates still in the race and score them (first stage).

        Returns:
            The hybrids added (none when the probe has no BM25 candidate or no auto hybrids).
        """
        dense = [c for m in self.models.values() for c in self.alive(m)]
        added = self.lexical.add_hybrids(dense)
        if added:
            self._score_lexical()
        return added

    def _run_model(
        self, model: Model, stage: Stage, pairs: Sequence[ContradictionPair], *, first: bool
    ) -> None:
        variants = self.needed(model)
        try:
            run = run_with_timeout(
                lambda: _measure(model, variants, stage, pairs, first=first), self.timeout
            )
        except Exception as exc:  # noqa: BLE001 - a crashing or hanging model must not stop the probe
            for cand in variants:
                self.results[cand.label].error = f"{type(exc).__name__}: {exc}"
            return
        model.views = run.views
        model.doc_raw.append(run.doc_raw)
        model.query_raw.append(run.query_raw)
        model.doc_seconds += run.doc_seconds
        model.docs_encoded += len(stage.pool)
        model.latencies_ms += run.latencies_ms
        for cand in variants:
            result = self.results[cand.label]
            view = model.views[cand.label]
            if first:
                result.load_s = run.load_s
                result.dim = view.dim
                result.bytes_per_vector = view.bytes_per_vector
            if model.latencies_ms:
                result.query_p50_ms = float(np.percentile(model.latencies_ms, 50))
                result.query_p95_ms = float(np.percentile(model.latencies_ms, 95))
            if model.doc_seconds > 0:
                result.docs_per_s = model.docs_encoded / model.doc_seconds
            if cand.label in run.contradiction:
                result.contradiction = run.contradiction[cand.label]

    def score(self) -> None:
        """Score every live candidate on all the queries and pool documents so far."""
        from autoembedding.selector.probing.metrics import bootstrap_ci, per_query_metrics

        if not self.queries:
            return
        relevant = [q.relevant for q in self.queries]
        for model in self.models.values():
            variants = self.needed(model)
            if not variants or not model.doc_raw:
                continue
            docs_raw = np.concatenate(model.doc_raw)
            queries_raw = np.concatenate(model.query_raw)
            for cand in variants:
                view = model.views[cand.label]
                scores = view.postprocess(queries_raw) @ view.postprocess(docs_raw).T
                self.dense_scores[cand.label] = scores
                result = self.results[cand.label]
                if not _in_race(result):
                    continue  # dropped, still encoded for a hybrid: keep its measures
                per_query = per_query_metrics(scores, self.pool_ids, relevant)
                result.per_query = {k: np.asarray(v) for k, v in per_query.items()}
                result.metrics = {k: float(np.mean(v)) for k, v in per_query.items()}
                result.intervals = {
                    k: bootstrap_ci(v, seed=self.seed) for k, v in per_query.items()
                }
        self._score_lexical()

    def _score_lexical(self) -> None:
        latencies = {c.label: m.latencies_ms for m in self.models.values() for c in m.variants}
        self.lexical.score(
            [q.relevant for q in self.queries], self.pool_ids, self.dense_scores, latencies
        )


def _in_race(result: CandidateResult) -> bool:
    return result.error is None and result.dropped is None


def _measure(
    model: Model,
    variants: list[Candidate],
    stage: Stage,
    pairs: Sequence[ContradictionPair],
    *,
    first: bool,
) -> ModelRun:
    """One model's work in one stage (runs in the time box's worker thread)."""
    if model.base is None:
        first_cand = variants[0]
        model.base = Candidate(first_cand.model_id, None, "float32", first_cand.options).build()
    elif first:  # a user's adapter: encode with a float32, native-dimension view of it
        model.base = model.base.view()
    adapter = model.base
    start = time.perf_counter()
    adapter.load()
    load_s = (
        adapter.load_seconds if adapter.load_seconds is not None else time.perf_counter() - start
    )
    query_texts = [q.text for q in stage.queries]
    latencies = _latencies(adapter, query_texts[: N_LATENCY_QUERIES + 1] if first else [])
    start = time.perf_counter()
    doc_raw = adapter.encode_raw([d.text for d in stage.pool], is_query=False)
    doc_seconds = time.perf_counter() - start
    query_raw = adapter.encode_raw(query_texts, is_query=True)
    pair_raw = _encode_pairs(adapter, pairs) if pairs else None
    views = {
        c.label: model.views.get(c.label)
        or adapter.view(truncate_dim=c.truncate_dim, precision=cast(Precision, c.precision))
        for c in variants
    }
    for view in views.values():  # an int8 view calibrates on first use: here, in the time box
        view.postprocess(doc_raw[:1])
    run = ModelRun(views, load_s, latencies, doc_raw, doc_seconds, query_raw)
    if pair_raw is not None:
        run.contradiction = {
            label: _contradiction(view, *pair_raw) for label, view in views.items()
        }
    return run


def _latencies(adapter: BaseAdapter, texts: list[str]) -> list[float]:
    """Milliseconds per single query; the first call is a warm-up."""
    latencies: list[float] = []
    spent = 0.0
    for index, text in enumerate(texts):
        start = time.perf_counter()
        adapter.embed_query(text)
        if index:
            latencies.append((time.perf_counter() - start) * 1000.0)
            spent += latencies[-1] / 1000.0
            if len(latencies) >= MIN_LATENCY_QUERIES and spent > LATENCY_TIME_S:
                break  # a slow model: enough to know it is slow
    return latencies


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
