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

A probe's ``budget_s`` is hard (:class:`Engine` ``deadline``): each model's time box in a stage is
its fair share of the time left (what is left divided by the models still to run, so a fast model
leaves more to the next; catalog models run smallest first). In the first stage, each model is
first timed on a few documents (:data:`~.measure.CALIBRATION_DOCS`, scaled by length,
:func:`~.measure.predict_doc_s`): one that could not embed the whole sample in what the budget
leaves it (after the models before it) is skipped there, before it spends the others' time; a
model that runs past its share anyway is timed out and reported as cut by the budget. In a later
stage, the whole stage is cut (its work is discarded and the candidates keep their measures from
the stages before), so every candidate stays scored on the same documents and queries;
:meth:`Engine.fit_budget` drops, before the stage starts, the models that would not fit and
whose candidates are all significantly behind the leader (:mod:`.budget`).

Models built here do not warn about truncated texts themselves (the warning would point into a
worker thread and count one call); :meth:`Engine.truncated` gives the totals and the probe warns
once per model at the caller's line.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from autoembedding.candidates import Candidate, CandidateResult
from autoembedding.errors import AutoEmbeddingError
from autoembedding.probe.candidates import ResolvedCandidate
from autoembedding.probe.lexical_run import LexicalSide
from autoembedding.probe.measure import Model, ModelRun, TooSlowForBudget, measure
from autoembedding.probe.queries import ProbeQuery
from autoembedding.probe.stages import Stage
from autoembedding.probe.timebox import run_with_timeout

if TYPE_CHECKING:
    from autoembedding.probe.contradiction import ContradictionPair

__all__ = ["BUDGET_RESERVE_S", "Engine", "Model", "ModelRun"]

#: Seconds of the budget kept for scoring and the report after the last model's time box (at
#: most this, at most 5% of the budget).
BUDGET_RESERVE_S = 2.0
#: A model is not started with less than this many seconds of its share left.
_MIN_BOX_S = 0.05


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
        deadline: ``time.perf_counter()`` by which every model's work must be done (the hard
            budget), or ``None``.
        budget_s: The budget the deadline comes from (for the messages).
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
        deadline: float | None = None,
        budget_s: float | None = None,
    ) -> None:
        self.timeout = timeout
        self.deadline = deadline
        self.budget_s = budget_s
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
        #: Documents in the whole sample (set by the race; the first stage's budget check).
        self.sample_docs = 0
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

    def query_kinds(self) -> dict[str, int]:
        """Queries so far of each kind (``"labelled"``, ``"ict"``, ``"title"``, ...), most first."""
        counts = Counter(q.kind for q in self.queries)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def truncated(self) -> list[tuple[str, int, int]]:
        """``(model id, texts cut, max tokens)`` of each model that cut texts in this probe."""
        out: list[tuple[str, int, int]] = []
        for model in self.models.values():
            base = model.base
            if base is not None and base.truncated_texts:
                out.append((base.model_id, int(base.truncated_texts), base.spec.max_tokens))
        return out

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
    ) -> str | None:
        """Run every live model on a stage's new documents and queries, within the deadline.

        Args:
            stage: The documents and queries this stage adds.
            pairs: Contradiction pairs to score (the first stage's only).
            first: Whether this is the first stage (load time, latency, dims are measured).
            on_model: Called ``(index, count, model_id)`` before each model runs.

        Returns:
            ``None`` when the stage ran whole; else what the budget cut, worded for the report's
            notes. In the first stage the models that ran past their share are cut (failed with
            a ``TimeoutError`` that names the budget); in a later stage the whole stage is cut
            (nothing of it is kept).
        """
        live = [m for m in self.models.values() if self.needed(m)]
        if self.deadline is not None:  # small models first: a fast one leaves its time to the next
            live.sort(key=_expected_cost)
        runs: list[tuple[Model, list[Candidate], ModelRun]] = []
        cut: list[str] = []
        skipped: list[str] = []
        for index, model in enumerate(live):
            if on_model is not None:
                on_model(index, len(live), model.variants[0].model_id)
            variants = self.needed(model)
            box, share = self._box(len(live) - index)
            afford = self._afford_s(stage, [m for m, _, _ in runs]) if first else None
            try:
                if box < _MIN_BOX_S:
                    raise TimeoutError("not started: no time left")
                cancel = threading.Event()
                began = time.perf_counter()
                work = partial(
                    measure,
                    model,
                    variants,
                    stage,
                    pairs,
                    first=first,
                    cancel=cancel,
                    afford_s=afford,
                    sample_docs=self.sample_docs,
                )
                run = run_with_timeout(work, box, cancel=cancel)
            except TooSlowForBudget as exc:
                self._fail(variants, TimeoutError(f"skipped for budget_s={self.budget_s:g}: {exc}"))
                skipped.append(model.variants[0].model_id)
                continue
            except TimeoutError as exc:
                if share is None or box < share:  # the user's candidate_timeout_s: a failure
                    self._fail(variants, exc, first=first)
                    continue
                cut.append(model.variants[0].model_id)
                if first:
                    self._fail(variants, self._budget_error(share, exc))
                    continue
                break  # a later stage: cut it whole
            except Exception as exc:  # noqa: BLE001 - a crashing model must not stop the probe
                self._fail(variants, exc, first=first)
                continue
            seconds = time.perf_counter() - began - (run.load_s if first else 0.0)
            model.stage_s = max(seconds - run.latency_s, 0.0)
            model.stage_docs = len(stage.pool)
            runs.append((model, variants, run))
        if cut and not first:
            return (
                f"budget_s={self.budget_s:g} ran out while {cut[0]} ran; this stage was cut "
                "(its documents and queries are left out; measures are from the stages before)"
            )
        self.pool_ids += [d.id for d in stage.pool]
        self.queries += stage.queries
        for model, variants, run in runs:
            self._apply(model, variants, run, stage, first=first)
        if self.deadline is not None:  # BM25 is quick, but not past the deadline either
            self.lexical.timeout = min(self.timeout, max(self.deadline - time.perf_counter(), 1.0))
        self.lexical.run_stage(stage, self.queries)
        said = []
        if skipped:
            said.append(
                f"budget_s={self.budget_s:g}: {', '.join(skipped)} would not embed the whole "
                "sample in the time the budget leaves it (timed on its first documents) and was "
                "skipped; a larger budget_s measures it"
            )
        if cut:
            said.append(
                f"budget_s={self.budget_s:g}: {', '.join(cut)} ran past its share of the budget "
                "in the first stage and was cut (timed out)"
            )
        return "; ".join(said) or None

    def _reserve_s(self) -> float:
        return min(BUDGET_RESERVE_S, 0.05 * (self.budget_s or 0.0))

    def _afford_s(self, stage: Stage, done: Sequence[Model]) -> float | None:
        """First stage: seconds the budget leaves the next model for the whole sample.

        What is left, less what the models that already ran this stage need for the rest of
        the sample (predicted from their first stage). ``None`` without a budget.
        """
        if self.deadline is None or not self.sample_docs:
            return None
        left = self.deadline - time.perf_counter() - self._reserve_s()
        rest = max(self.sample_docs - len(stage.pool), 0)
        return left - sum(m.predict_s(rest) for m in done)

    def predict_s(self, stage: Stage) -> float:
        """Seconds the models still needed should take on ``stage`` (from their last stage)."""
        return sum(m.predict_s(len(stage.pool)) for m in self.models.values() if self.needed(m))

    def fit_budget(self, stage: Stage, looks: int = 1) -> str | None:
        """Before a later stage: drop what does not fit and is behind (:mod:`.budget`)."""
        from autoembedding.probe.budget import fit_budget

        return fit_budget(self, stage, looks)

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

    def _box(self, models_left: int) -> tuple[float, float | None]:
        """The time box of the next model, and its share of the budget (``None``: no budget)."""
        if self.deadline is None:
            return self.timeout, None
        share = (self.deadline - time.perf_counter()) / max(models_left, 1)
        return min(self.timeout, share), share

    def _budget_error(self, share: float, exc: TimeoutError) -> TimeoutError:
        return TimeoutError(
            f"cut by budget_s={self.budget_s:g}: ran past its share of the time left "
            f"({max(share, 0.0):.1f} s) in the first stage ({exc})"
        )

    def _fail(
        self, variants: Sequence[Candidate], exc: BaseException, *, first: bool = True
    ) -> None:
        """Record a model's failure: an error in the first stage, fewer documents after.

        A failure in a later stage keeps what the earlier stages measured: its candidates
        (and the hybrids that fuse them) leave the race "measured on fewer documents", so the
        report shows them, and the selection, which compares only candidates measured on the
        same documents and queries, says why they are not compared.
        """
        what = f"{type(exc).__name__}: {exc}"
        if first:
            for cand in variants:
                self.results[cand.label].error = what
            return
        why = (
            f"measured on fewer documents: failed in a later stage ({what}); its measures are "
            f"from the first {self.n_docs} documents and {self.n_queries} queries"
        )
        labels = {c.label for c in variants}
        for cand in list(variants) + self.lexical.hybrids_of(labels):
            result = self.results[cand.label]
            if result.error is None and result.dropped is None:
                result.dropped = why

    def _apply(
        self, model: Model, variants: list[Candidate], run: ModelRun, stage: Stage, *, first: bool
    ) -> None:
        """Record one model's finished run of a stage in the model and its candidates' results."""
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
            self.lexical.serving.dense(result, model, view.dim)  # as served: serving.Serving
            if model.doc_seconds > 0:
                result.docs_per_s = model.docs_encoded / model.doc_seconds
            if cand.label in run.contradiction:
                result.contradiction = run.contradiction[cand.label]

    def score(self) -> None:
        """Score every live candidate on all the queries and pool documents so far."""
        from autoembedding.metrics import bootstrap_ci, per_query_metrics

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


def _expected_cost(model: Model) -> float:
    """The model's size in millions of parameters, from the catalog (unknown: run last)."""
    from autoembedding.catalog import get_spec

    try:
        params = get_spec(model.variants[0].model_id).parameters
    except (AutoEmbeddingError, KeyError, TypeError):
        return float("inf")
    return float(params) if params else float("inf")


def _in_race(result: CandidateResult) -> bool:
    return result.error is None and result.dropped is None
