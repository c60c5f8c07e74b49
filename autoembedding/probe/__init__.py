"""The probe: measure candidate embedding models on a user's own documents and pick one.

:func:`probe` reads a Chroma collection in pages (never writing to it), draws a seeded sample of
documents, builds probe queries (the user's labelled ones, or label-free ones cut from the
documents) and races the candidates:

* Each underlying model is loaded and run **once**; Matryoshka and int8/binary variants of it
  (``"id@256:int8"``) are derived from its raw vectors, so they cost almost nothing.
* The race runs in stages (a quarter of the sample, another quarter, the last half). After each
  stage, candidates that already miss a hard target (latency, bytes per vector, load time,
  throughput) or whose nDCG@10 interval lies wholly below the leader's are dropped; the sample only
  grows while the leaders are statistically tied and the budget allows it.
* ``budget_s`` is hard: each model's work in a stage gets its share of the time left; a model that
  runs past it in the first stage is cut (timed out), and a later stage that runs past it is cut
  whole. The report's notes say what was cut. The probe returns within about ``budget_s`` (plus
  scoring, well under a second or two), even on a loaded machine.
* Each model's work runs in a worker thread with a time-out: a model that crashes or hangs is
  reported in its :class:`~autoembedding.candidates.CandidateResult` ``error`` and the probe
  goes on.

The parts, one job each: :mod:`.candidates` (which models), :mod:`.sampling` (which documents),
:mod:`.stages` (the rounds of the race and their queries), :mod:`.engine` (running the models),
:mod:`.timebox` (the time-out), :mod:`.race` (dropping and stopping), :mod:`.selection` (the pick).

Example:
    >>> from autoembedding.selector import probe, Targets
    >>> report = probe(documents=["...", "..."], candidates=["fake/a", "fake/b"])  # doctest: +SKIP
    >>> report.winner.candidate.label  # doctest: +SKIP

"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from typing import Any

from autoembedding.adapters.base import BaseAdapter
from autoembedding.candidates import Candidate, CandidateResult, ProbeReport, Targets
from autoembedding.errors import ProbeWarning, TruncationWarning
from autoembedding.probe.arguments import check_probe_arguments, check_queries
from autoembedding.probe.candidates import (
    check_lexical_candidates,
    default_candidates,
    plan_candidates,
    resolve_candidates,
    with_variants,
)
from autoembedding.probe.engine import BUDGET_RESERVE_S, Engine
from autoembedding.probe.race import run_race
from autoembedding.probe.sampling import (
    CHARS_PER_TOKEN,
    FALLBACK_MAX_TOKENS,
    MIN_DOCS,
    auto_doc_chars,
    cut_doc,
    dedupe,
    sample_collection,
    sample_documents,
)
from autoembedding.probe.stages import DEFAULT_N_QUERIES, STAGE_FRACTIONS, plan_stages
from autoembedding.progress import Progress, ProgressFn

__all__ = [
    "CHARS_PER_TOKEN",
    "DEFAULT_MAX_DOC_CHARS",
    "DEFAULT_N_QUERIES",
    "DEFAULT_SAMPLE_SIZE",
    "FALLBACK_MAX_TOKENS",
    "MIN_DOCS",
    "STAGE_FRACTIONS",
    "ProbeWarning",
    "default_candidates",
    "probe",
]

#: Documents sampled for the search pool when ``sample_size`` is not given.
DEFAULT_SAMPLE_SIZE = 200
#: Pool documents are cut, by default, only past what the longest-reading candidate would read:
#: ``CHARS_PER_TOKEN`` x its ``max_tokens`` (a third of that for unspaced scripts). Each model's
#: own truncation is part of what the probe measures: on SciFact, cutting abstracts to 500 or
#: 1,000 characters hid e5's 512-token window against MiniLM's 256 and flipped their order
#: (docs/probe-queries.md).
DEFAULT_MAX_DOC_CHARS = "auto"


def probe(
    collection: Any = None,
    candidates: Sequence[str | Candidate | BaseAdapter] | None = None,
    targets: Targets | None = None,
    queries: Any = None,
    budget_s: float | None = None,
    *,
    documents: Sequence[str] | Sequence[tuple[str, str]] | None = None,
    seed: int = 0,
    progress: bool | ProgressFn = False,
    sample_size: int | None = None,
    n_queries: int | None = None,
    candidate_timeout_s: float | None = None,
    max_doc_chars: int | str | None = DEFAULT_MAX_DOC_CHARS,
    lexical: bool | None = None,
) -> ProbeReport:
    """Measure candidate models on your documents and pick the best under your targets.

    Args:
        collection: A Chroma collection (embedded or server). Read in pages; never written to.
        candidates: Model labels (``"id"``, ``"id@256"``, ``"id:int8"``), lexical and hybrid
            labels (``"bm25"``, ``"bm25:zh"``, ``"hybrid:<dense label>+bm25"``,
            ``"hybrid-rrf:<dense label>+bm25"``), :class:`Candidate` objects or ready adapters.
            Default: every catalog model loadable right now, plus (when
            ``targets.max_bytes_per_vector`` is set) their int8/binary/Matryoshka variants, plus
            ``bm25`` and the hybrids (see ``lexical``).
        targets: What you need (latency, hit@5, bytes per vector, ...). Default: none.
        queries: Labelled queries, which take precedence over label-free ones: a sequence of
            ``(query, relevant_ids)`` pairs, or a ``(queries.jsonl, qrels.tsv)`` pair of BEIR
            paths.
        budget_s: Time budget in seconds, hard: the sample stops growing when the next stage
            would overrun it, and a model or stage that runs past it anyway is cut (the notes
            say what; a cut model's thread cannot be killed and may use CPU until it returns).
        documents: Probe these texts (or ``(id, text)`` pairs) instead of a collection.
        seed: Seed of the sampling and the label-free queries (same seed, same report).
        progress: ``True`` for a progress bar on stderr, or a callable ``(message, fraction)``.
        sample_size: Documents in the search pool (default 200, capped at what there is).
        n_queries: Probe queries at full sample. Default: two label-free queries per sampled
            document, two sentences cut from it (at most that many; each answer is a pool
            document anyway, so they cost only the query embeddings), or 80 labelled ones.
        candidate_timeout_s: Time-box of one model's work in one stage; a model that runs over
            is abandoned and reported as an error (its thread cannot be killed and may keep
            using CPU until it returns). Default: twice ``budget_s`` (at least 120 s), or 300 s.
        max_doc_chars: Cut pool documents to this many characters (a third for unspaced
            scripts). ``"auto"`` (default) cuts only past what the longest-reading candidate
            reads (``CHARS_PER_TOKEN`` x its ``max_tokens``), so every model sees the documents
            as it would in production; ``None`` keeps them whole. Smaller values are faster
            but hide differences in the models' input windows.
        lexical: Lexical and hybrid candidates. ``None`` (default): with the default
            candidates, ``bm25`` (language detected from the documents) and, after the first
            stage, an RRF and a convex hybrid of each dense candidate still in the race; with a
            ``candidates`` list, only the lexical and hybrid labels it names. ``True``: those
            with any candidates. ``False``: none.

    Returns:
        A :class:`ProbeReport`: every candidate's measures, best first, and the winner (``None``
        when nothing meets the targets) with the reason.

    Raises:
        InvalidArgumentError: On a bad argument, before any work (a ``ValueError``; the message
            names the argument): a budget, sample size or time-out that is not a positive
            number, a missing BEIR file, a label that cannot be parsed, ...
        UnknownModelError: If a candidate names no known model, before any work (the message
            suggests close names).
        CollectionError: If there are no usable documents (empty collection, embeddings without
            documents, all documents identical, too short to cut queries from, ...).
        NoCandidateError: If no candidate model is available.

    """
    start = time.perf_counter()
    check_probe_arguments(
        collection=collection,
        documents=documents,
        candidates=check_lexical_candidates(candidates, lexical),
        targets=targets,
        budget_s=budget_s,
        seed=seed,
        progress=progress,
        sample_size=sample_size,
        n_queries=n_queries,
        candidate_timeout_s=candidate_timeout_s,
        max_doc_chars=max_doc_chars,
        min_docs=MIN_DOCS,
    )
    queries = check_queries(queries)
    targets = targets or Targets()
    timeout = candidate_timeout_s or (max(120.0, 2.0 * float(budget_s)) if budget_s else 300.0)
    notes: list[str] = []
    reporter = Progress(progress, total=100, desc="probe", unit="")
    try:
        default = default_candidates() if candidates is None else None
        cands = resolve_candidates(candidates, default)
        if candidates is None and targets.max_bytes_per_vector is not None:
            cands = [(c, None) for c in with_variants([c for c, _ in cands])]
        plan = plan_candidates(cands, lexical, default=candidates is None, notes=notes)
        reporter.set("reading documents", 0.0)
        size = sample_size or DEFAULT_SAMPLE_SIZE
        if collection is not None:
            docs, total = sample_collection(collection, size, seed)
            name = getattr(collection, "name", None)
        else:
            docs, total = sample_documents(documents or [], size, seed)
            name = None
        docs = dedupe(docs, name, notes)
        if sample_size is not None and total < sample_size:
            msg = (
                f"Asked for a sample of {sample_size} documents but only {total} are there; "
                f"probing all {len(docs)}."
            )
            warnings.warn(msg, ProbeWarning, stacklevel=2)
            notes.append(msg)
        if max_doc_chars == "auto":  # BM25 reads whole documents: only models' windows cut
            max_doc_chars = auto_doc_chars(plan.dense) if plan.dense else None
        # "auto" is resolved above; any other string was refused by check_probe_arguments
        doc_chars = None if isinstance(max_doc_chars, str) else max_doc_chars
        if doc_chars:
            docs = [cut_doc(d, doc_chars) for d in docs]
        stages, kind = plan_stages(docs, queries, collection, n_queries, seed, doc_chars, notes)
        engine = Engine(
            plan.dense,
            timeout,
            seed,
            lexical=plan.lexical,
            hybrids=plan.hybrids,
            auto_hybrids=plan.auto_hybrids,
            deadline=_deadline(start, budget_s),
            budget_s=budget_s,
        )
        run_race(
            engine,
            stages,
            docs,
            targets,
            budget_s=budget_s,
            t0=start,
            progress=reporter,
            notes=notes,
            collection=collection,
            collection_docs=total,
        )
        reporter.set("done", 1.0)
    finally:
        reporter.close()
    _warn_truncated(engine)

    from autoembedding.probe.selection import select

    results = list(engine.results.values())
    winner, reason = select(results, targets)
    results.sort(key=lambda r: _rank_key(r, winner))
    return ProbeReport(
        results=results,
        winner=winner,
        reason=reason,
        targets=targets,
        query_kind=kind,
        n_queries=engine.n_queries,
        query_kinds=engine.query_kinds(),
        n_docs=engine.n_docs,
        seconds=time.perf_counter() - start,
        collection=name,
        notes=notes,
    )


def _warn_truncated(engine: Engine) -> None:
    """One :class:`TruncationWarning` per model that cut texts, at the caller's line."""
    from autoembedding.warn import warn_user

    for model_id, count, max_tokens in engine.truncated():
        warn_user(
            f"{count} text(s) exceeded {model_id}'s max of {max_tokens} tokens and were "
            "truncated during the probe (its scores are for the documents as this model reads "
            "them). Split long documents into chunks to embed all of their content.",
            TruncationWarning,
        )


def _deadline(start: float, budget_s: float | None) -> float | None:
    """When the models' work must end: the budget less a reserve for scoring and the report."""
    if budget_s is None:
        return None
    budget = float(budget_s)
    return start + budget - min(BUDGET_RESERVE_S, 0.05 * budget)


def _rank_key(result: CandidateResult, winner: CandidateResult | None) -> tuple[Any, ...]:
    """Report order: the winner, then candidates that ran, met the targets, stayed in the race."""
    return (
        result is not winner,
        result.error is not None,
        not result.meets_targets,
        result.dropped is not None,
        -result.metrics.get("ndcg@10", -1.0),
    )
