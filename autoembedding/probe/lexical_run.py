"""Run a BM25 candidate through the stages of the race, like a model, and measure it.

The lexical candidate ``bm25`` tokenizes for the language detected from the first stage's pool
documents (``bm25:<lang>`` forces one; :meth:`~autoembedding.lexical.Tokenizer.from_label`).
Each stage rebuilds the index over the whole pool so far (bm25s has no incremental add, and the
pool is small), then scores every query so far: a query's ranking is the documents that share a
term with it, as a BM25 retriever serves them.

What the report's columns mean for it:

* query p50/p95: one query as ``AutoRetriever`` serves it on the whole collection: its count,
  a BM25 search of an index as large as it (the pool's documents repeated; extrapolated past
  :data:`~.serving.BM25_DOCS_CAP`), reading ``k`` documents (:mod:`.serving`);
* docs/s: the index build rate (tokenizing and indexing the pool);
* load s: making the tokenizer (stemmer, stopwords, jieba dictionary);
* B/vec: the index size per document (the BM25 score matrix's bytes over the pool).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from autoembedding.candidates import Candidate, CandidateResult
from autoembedding.probe.candidates import lexical_available
from autoembedding.probe.hybrid import (
    lexical_rankings,
    ranking_metrics,
    score_hybrid,
)
from autoembedding.probe.latency import SERVE_K, Timing
from autoembedding.probe.queries import ProbeDoc, ProbeQuery
from autoembedding.probe.serving import HYBRID_DEPTH, Serving, bm25_timings
from autoembedding.probe.stages import Stage
from autoembedding.probe.timebox import run_with_timeout

if TYPE_CHECKING:
    from autoembedding.lexical import BM25Index, Tokenizer

__all__ = ["LexicalRun", "LexicalSide", "lexical_available"]
_WARM_UP = "warm-up 预热"


@dataclass
class LexicalRun:
    """One BM25 candidate: its tokenizer, its index over the pool so far, its query scores.

    Attributes:
        candidate: ``bm25`` or ``bm25:<lang>``.
        tokenizer: Made in the first stage.
        source: ``"detected"`` or ``"forced"``: where the tokenizer's language came from.
        load_s: Time to make the tokenizer.
        ids: Pool ids so far (the index's and :attr:`scores`' column order).
        texts: Pool texts so far.
        index: The index over them.
        scores: ``(n_queries, n_docs)`` BM25 scores of every query so far.
        served: Search depth -> milliseconds of one query's BM25 search on an index as large
            as the collection (timed once, in the first stage).
        detected_from: Documents the language was detected from (0 when forced).
    """

    candidate: Candidate
    tokenizer: Tokenizer | None = None
    source: str = "detected"
    load_s: float = 0.0
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    index: BM25Index | None = None
    scores: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    served: dict[int, Timing] = field(default_factory=dict)
    detected_from: int = 0

    def run_stage(
        self,
        pool: Sequence[ProbeDoc],
        queries: Sequence[ProbeQuery],
        serving: Serving | None = None,
    ) -> None:
        """Add a stage's pool documents, rebuild the index, score every query so far.

        The first time (with ``serving``), a query is also timed as served on the collection
        (:meth:`time_served`).

        Args:
            pool: The documents this stage adds (the first stage's also pick the language).
            queries: Every query so far.
            serving: The collection served (its size), for the latency.
        """
        from autoembedding.lexical import BM25Index, Tokenizer

        if self.tokenizer is None:
            start = time.perf_counter()
            texts = [d.text for d in pool]
            self.tokenizer = Tokenizer.from_label(self.candidate.model_id, texts)
            self.tokenizer(_WARM_UP)  # loads the stemmer or the jieba dictionary
            self.load_s = time.perf_counter() - start
            forced = ":" in self.candidate.model_id
            self.source = "forced" if forced else "detected"
            self.detected_from = 0 if forced else len(texts)
        self.ids += [d.id for d in pool]
        self.texts += [d.text for d in pool]
        self.index = BM25Index.build(self.ids, self.texts, self.tokenizer)
        texts = [q.text for q in queries]
        self.scores = (
            np.stack([self.index.scores(t) for t in texts])
            if texts
            else np.zeros((0, len(self.ids)), dtype=np.float32)
        )
        if serving is not None and not self.served and texts:
            self.time_served(texts, serving.docs or len(self.ids))

    def time_served(self, texts: Sequence[str], docs: int) -> None:
        """Time a served BM25 search on an index of ``docs`` documents (:func:`bm25_timings`)."""
        assert self.index is not None
        self.served = bm25_timings(self.index, texts, docs)

    def rankings(self) -> list[dict[str, float]]:
        """Each query's BM25 ranking (documents sharing a term with it), best first."""
        return lexical_rankings(self.scores, self.ids)

    def measure(
        self,
        result: CandidateResult,
        relevant: Sequence[frozenset[str]],
        seed: int = 0,
        serving: Serving | None = None,
    ) -> None:
        """Write the candidate's metrics and costs into its result.

        Args:
            result: The candidate's result.
            relevant: Relevant ids of every query so far.
            seed: Seed of the bootstrap intervals.
            serving: The collection served (its store's count and reads), for the latency.
        """
        from autoembedding.metrics import bootstrap_ci

        assert self.index is not None and self.tokenizer is not None
        per_query = ranking_metrics(self.rankings(), relevant)
        result.per_query = per_query
        result.metrics = {k: float(np.mean(v)) for k, v in per_query.items()}
        result.intervals = {k: bootstrap_ci(v, seed=seed) for k, v in per_query.items()}
        if SERVE_K in self.served:
            (serving or Serving(seed=seed)).lexical(result, self.served[SERVE_K])
        n = self.index.count
        build_s = max(self.index.build_seconds, 1e-6)
        result.docs_per_s = n / build_s
        result.load_s = self.load_s
        result.bytes_per_vector = self.index.index_bytes / max(n, 1)
        result.lexical = self.details()

    def details(self) -> dict[str, Any]:
        """JSON-able facts for the report: tokenizer, where its language came from, index."""
        assert self.index is not None and self.tokenizer is not None
        n = self.index.count
        return {
            "kind": "lexical",
            "tokenizer": self.tokenizer.spec,
            "language": self.source,
            "detected_from_docs": self.detected_from,
            "index_docs": n,
            "index_bytes": self.index.index_bytes,
            "index_bytes_per_doc": self.index.index_bytes / max(n, 1),
            "build_s": self.index.build_seconds,
        }


class LexicalSide:
    """The lexical and hybrid candidates of a probe, beside the engine's dense models.

    Args:
        results: The engine's results by label (lexical and hybrid ones are added here).
        lexical: The ``bm25`` candidates.
        hybrids: Hybrid candidates asked for by label (their parts are candidates too).
        timeout: Time box of one BM25 run in one stage, in seconds.
        seed: Seed of the bootstrap intervals and of the convex weight's folds.
        auto_hybrids: Whether :meth:`add_hybrids` pairs the dense survivors of the first stage
            with the first BM25 candidate.
    """

    def __init__(
        self,
        results: dict[str, CandidateResult],
        lexical: Sequence[Candidate],
        hybrids: Sequence[Candidate],
        timeout: float,
        seed: int,
        *,
        auto_hybrids: bool = False,
    ) -> None:
        self.results = results
        self.timeout = timeout
        self.seed = seed
        self.auto_hybrids = auto_hybrids
        self.runs: dict[str, LexicalRun] = {}
        self.hybrids: list[Candidate] = []
        #: The collection served: what a query's latency is timed on (:class:`~.serving.Serving`).
        self.serving = Serving(seed=seed)
        #: Hybrid label -> its fusion's timing and documents read after fusing (re-assembly).
        self._fused: dict[str, tuple[list[float], int]] = {}
        for cand in lexical:
            if cand.label not in results:
                self.runs[cand.label] = LexicalRun(cand)
                results[cand.label] = CandidateResult(candidate=cand)
        for cand in hybrids:
            self._add(cand)

    def _add(self, cand: Candidate) -> bool:
        if cand.label in self.results:
            return False
        self.hybrids.append(cand)
        self.results[cand.label] = CandidateResult(candidate=cand)
        return True

    def _live_hybrids(self) -> list[Candidate]:
        return [h for h in self.hybrids if _in_race(self.results[h.label])]

    def dense_needed(self) -> set[str]:
        """Labels of the dense candidates that live hybrids fuse (run even when dropped)."""
        return {h.parts[0].label for h in self._live_hybrids()}

    def hybrids_of(self, dense_labels: set[str]) -> list[Candidate]:
        """The hybrids that fuse one of ``dense_labels``."""
        return [h for h in self.hybrids if h.parts[0].label in dense_labels]

    def add_hybrids(self, dense: Sequence[Candidate]) -> list[Candidate]:
        """Pair dense candidates with the first working BM25 candidate, both fusions each.

        Args:
            dense: The dense candidates still in the race (after the first stage).

        Returns:
            The hybrid candidates added (none unless ``auto_hybrids``).
        """
        lexical = next((r for r in self.runs.values() if r.index is not None), None)
        if not self.auto_hybrids or lexical is None:
            return []
        if self.results[lexical.candidate.label].error is not None:
            return []
        added = []
        for cand in dense:
            for prefix in ("hybrid-rrf", "hybrid"):
                label = f"{prefix}:{cand.label}+{lexical.candidate.label}"
                hybrid = Candidate(label, options=cand.options)
                if self._add(hybrid):
                    added.append(hybrid)
        return added

    def run_stage(self, stage: Stage, queries: Sequence[ProbeQuery]) -> None:
        """Index a stage's documents and score every query so far, for each BM25 run in use.

        Args:
            stage: The stage.
            queries: Every query so far (this stage's included).
        """
        used = {h.parts[1].label for h in self._live_hybrids()}
        for label, run in self.runs.items():
            result = self.results[label]
            if result.error is not None or not (_in_race(result) or label in used):
                continue
            try:
                work = partial(run.run_stage, stage.pool, queries, self.serving)
                run_with_timeout(work, self.timeout)
            except Exception as exc:  # noqa: BLE001 - a failing BM25 must not stop the probe
                result.error = f"{type(exc).__name__}: {exc}"

    def score(
        self,
        relevant: Sequence[frozenset[str]],
        pool_ids: Sequence[str],
        dense_scores: dict[str, np.ndarray],
        dense_latencies: dict[str, list[float]],
    ) -> None:
        """Score the BM25 candidates and the live hybrids on every query so far.

        Args:
            relevant: Relevant ids of every query so far.
            pool_ids: The pool so far (the dense score matrices' columns).
            dense_scores: Dense label -> ``(n_queries, n_docs)`` similarities.
            dense_latencies: Dense label -> its model's single-query latencies (ms).
        """
        for label, run in self.runs.items():
            result = self.results[label]
            if _in_race(result) and run.index is not None and len(run.scores) == len(relevant):
                run.measure(result, relevant, self.seed, self.serving)
        for hybrid in self._live_hybrids():
            self._score_hybrid(hybrid, relevant, pool_ids, dense_scores, dense_latencies)

    def _score_hybrid(
        self,
        hybrid: Candidate,
        relevant: Sequence[frozenset[str]],
        pool_ids: Sequence[str],
        dense_scores: dict[str, np.ndarray],
        dense_latencies: dict[str, list[float]],
    ) -> None:
        from autoembedding.metrics import bootstrap_ci

        result = self.results[hybrid.label]
        dense, lexical = hybrid.parts
        run = self.runs.get(lexical.label)
        broken = [
            f"its {part} part {cand.label} failed: {self.results[cand.label].error}"
            for part, cand in (("dense", dense), ("lexical", lexical))
            if cand.label in self.results and self.results[cand.label].error is not None
        ]
        if broken or run is None or dense.label not in dense_scores:
            result.error = "; ".join(broken) or "its parts were not measured"
            return
        if list(run.ids) != list(pool_ids) or len(run.scores) != len(relevant):
            result.error = "its BM25 run did not cover the pool (an earlier stage failed)"
            return
        try:
            scored = score_hybrid(
                hybrid.fusion or "rrf",
                dense_scores[dense.label],
                run.scores,
                pool_ids,
                relevant,
                labels=(dense.label, lexical.label),
                seed=self.seed,
            )
        except Exception as exc:  # noqa: BLE001 - a failing hybrid must not stop the probe
            result.error = f"{type(exc).__name__}: {exc}"
            return
        result.per_query = scored.per_query
        result.metrics = {k: float(np.mean(v)) for k, v in scored.per_query.items()}
        result.intervals = {k: bootstrap_ci(v, seed=self.seed) for k, v in scored.per_query.items()}
        result.part_ndcg = scored.part_ndcg
        self._fused[hybrid.label] = (list(scored.fusion_ms), scored.missing)
        _hybrid_costs(result, self.results[dense.label], run)
        self.hybrid_latency(hybrid, dense_latencies.get(dense.label, []))
        result.lexical = {
            "kind": "hybrid",
            "dense": dense.label,
            **{k: v for k, v in run.details().items() if k != "kind"},
            **scored.details,
        }

    def hybrid_latency(self, hybrid: Candidate, dense_ms: Sequence[float] = ()) -> None:
        """A hybrid's served latency from its parts' timings (:meth:`Serving.hybrid`).

        Args:
            hybrid: The hybrid candidate (scored: its fusion was timed).
            dense_ms: Its dense model's ``embed_query`` times, when the serving has none.
        """
        result = self.results[hybrid.label]
        dense, lexical = hybrid.parts
        run = self.runs.get(lexical.label)
        fused = self._fused.get(hybrid.label)
        if run is None or fused is None or HYBRID_DEPTH not in run.served:
            return
        embed = self.serving.parts.get(dense.label, {}).get("embed") or Timing(list(dense_ms))
        dim = result.dim or self.results[dense.label].dim or 1
        if embed.ms:
            bm25 = run.served[HYBRID_DEPTH]
            self.serving.hybrid(result, embed, dim, bm25, *fused, pool=len(run.ids))

    def reassemble(self) -> None:
        """Assemble every measured lexical and hybrid latency again (after a re-measurement)."""
        for label, run in self.runs.items():
            result = self.results[label]
            if result.error is None and SERVE_K in run.served:
                self.serving.lexical(result, run.served[SERVE_K])
        for hybrid in self.hybrids:
            if self.results[hybrid.label].error is None:
                self.hybrid_latency(hybrid)


def _in_race(result: CandidateResult) -> bool:
    return result.error is None and result.dropped is None


def _hybrid_costs(result: CandidateResult, dense: CandidateResult, run: LexicalRun) -> None:
    """A hybrid's costs but latency (:meth:`LexicalSide.hybrid_latency`): indexes, loads."""
    assert run.index is not None
    result.dim = dense.dim
    lexical_docs_per_s = run.index.count / max(run.index.build_seconds, 1e-6)
    if dense.docs_per_s:
        result.docs_per_s = 1.0 / (1.0 / dense.docs_per_s + 1.0 / lexical_docs_per_s)
    if dense.load_s is not None:
        result.load_s = dense.load_s + run.load_s
    if dense.bytes_per_vector is not None:
        result.bytes_per_vector = dense.bytes_per_vector + run.index.index_bytes / max(
            run.index.count, 1
        )
