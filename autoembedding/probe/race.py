"""The race: run the stages, drop candidates that cannot win, stop when growing cannot help.

After each stage, a candidate is dropped when it misses a hard target (latency, bytes per vector,
load time, throughput), when its correctness interval lies wholly below a target, or when a
paired test of its per-query nDCG@10 against the leader's shows it behind (Holm over the
candidates, the error rate split over the stages: :func:`behind_leader`). Before each later
stage, with a budget, each model's time on it is predicted from its last stage (documents scale;
loading and latency timing are left out); a model whose next stage does not fit in the time left
is dropped only when each of its candidates is significantly behind the leader
(:meth:`Engine.fit_budget`); otherwise the race stops where it is and the notes say that the
budget forced it. The sample stops growing when nobody is left, when the
leader is significantly ahead, or when the next stage would still overrun the budget. The
budget is hard: a stage that runs over it anyway is cut by the engine (see :mod:`.engine`) and
the race ends there, with a note that says what was cut.

Hybrid candidates (a dense model fused with BM25) join after the first stage, one RRF and one
convex per dense candidate still in the race, when the probe has a BM25 candidate.

Latency is timed as served on the whole collection (:class:`~.serving.Serving`, configured here
with the collection's size and handle). A ``max_query_ms`` target drops a candidate in the race
only when its p95's interval lies wholly above the target and no timing ran beside an abandoned
worker (:func:`~.selection.latency_verdict`); an undecided one stays and, after the last stage,
is re-measured once (:func:`retime_latency`) before the final judgement.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from functools import partial
from typing import Any

from autoembedding.candidates import CandidateResult, Targets
from autoembedding.errors import AutoEmbeddingError
from autoembedding.probe.contradiction import ContradictionPair
from autoembedding.probe.drops import behind_leader
from autoembedding.probe.engine import Engine
from autoembedding.probe.queries import ProbeDoc
from autoembedding.probe.stages import Stage
from autoembedding.progress import Progress

__all__ = [
    "HARD_TARGETS",
    "behind_leader",
    "budget_reason",
    "contradiction_pairs",
    "drop_losers",
    "retime_latency",
    "run_race",
    "stop_reason",
    "target_undecided",
]

#: Targets a candidate cannot recover from by measuring on more documents.
HARD_TARGETS = frozenset({"max_query_ms", "max_bytes_per_vector", "max_load_s", "min_docs_per_s"})
#: Correctness targets and the metric each one bounds.
_CORRECTNESS = (("min_hit_at_5", "hit@5"), ("min_ndcg_at_10", "ndcg@10"))
#: A stage's predicted time is scaled by this before it is compared with the time left
#: (predictions come from the stage before, on a machine whose load may change).
_SAFETY = 1.1
#: Seconds of budget a re-measurement of latencies needs at least.
_RETIME_S = 3.0

#: Contradiction pairs per model.
N_CONTRADICTION = 20


def contradiction_pairs(
    docs: Sequence[ProbeDoc], seed: int, notes: list[str]
) -> list[ContradictionPair]:
    """Minimal contradiction pairs cut from the sample (none, with a note, when there are none)."""
    try:
        from autoembedding.probe.contradiction import build_contradiction_pairs

        pairs = build_contradiction_pairs(docs, n=min(N_CONTRADICTION, len(docs)), seed=seed)
    except (ImportError, ValueError, AutoEmbeddingError) as exc:
        notes.append(f"Contradiction probe skipped: {exc}")
        return []
    if not pairs:
        notes.append("Contradiction probe skipped: no negatable sentence found.")
    return list(pairs)


def run_race(
    engine: Engine,
    stages: Sequence[Stage],
    docs: Sequence[ProbeDoc],
    targets: Targets,
    *,
    budget_s: float | None,
    t0: float,
    progress: Progress,
    notes: list[str],
    collection: Any = None,
    collection_docs: int | None = None,
) -> None:
    """Run the stages on the engine's models until every stage ran or a stop rule holds.

    Args:
        engine: The models and results.
        stages: The planned stages.
        docs: The sample (contradiction pairs are cut from it).
        targets: The user's targets.
        budget_s: Time budget, or ``None`` (the engine's deadline enforces it; this decides
            whether to start the next stage).
        t0: ``time.perf_counter()`` when the probe started.
        progress: The probe's progress reporter (``total=100``).
        notes: The report's notes; gets the contradiction and stop notes.
        collection: The Chroma collection probed (its reads are timed as served), if any.
        collection_docs: Documents a served query searches (default: the sample's).
    """
    store = collection if callable(getattr(collection, "get", None)) else None
    engine.lexical.serving.configure(
        collection_docs or len(docs), store=store, ids=[d.id for d in docs]
    )
    engine.lexical.serving.deadline = engine.deadline
    pairs = contradiction_pairs(docs, engine.seed, notes)
    count = len(stages)
    engine.sample_docs = sum(len(s.pool) for s in stages)
    for index, stage in enumerate(stages):
        if index > 0 and budget_s is not None:
            dropped = engine.fit_budget(stage, looks=count)
            if dropped:
                notes.append(f"Before stage {index + 1} of {count}: {dropped}.")
            why = budget_reason(engine.predict_s(stage), budget_s, t0)
            if why:
                notes.append(f"Stopped after stage {index} of {count}: {why}.")
                break

        def on_model(m_index: int, n_models: int, model_id: str, index: int = index) -> None:
            fraction = (index + m_index / max(n_models, 1)) / count
            progress.set(f"stage {index + 1}/{count}: {model_id}", fraction)

        cut = engine.run_stage(
            stage, pairs if index == 0 else [], first=index == 0, on_model=on_model
        )
        if cut and index > 0:
            notes.append(f"Stage {index + 1} of {count} cut: {cut}.")
            break
        if cut:
            notes.append(f"Stage 1 of {count}: {cut}.")
        engine.score()
        drop_losers(engine.contenders(), targets, engine.n_queries, count)
        if index == 0 and engine.add_hybrids():  # hybrids of the dense survivors join here
            drop_losers(engine.contenders(), targets, engine.n_queries, count)
        progress.set(f"stage {index + 1}/{count} done", (index + 1) / count)
        if index + 1 == count:
            break
        why = stop_reason(engine.contenders(), targets)
        if why:
            notes.append(f"Stopped after stage {index + 1} of {count}: {why}.")
            break
    retime_latency(engine, targets, notes)


def drop_losers(
    contenders: Sequence[CandidateResult], targets: Targets, n_queries: int, looks: int = 1
) -> None:
    """Mark ``dropped`` on contenders that miss a hard target or are clearly beaten.

    Clearly beaten: a paired test shows it behind the leader, Holm-corrected over the
    candidates and split over the stages (:func:`behind_leader`).

    Args:
        contenders: Results still in the race.
        targets: The user's targets.
        n_queries: Queries measured so far (for the message).
        looks: The race's stages (the family-wise error is split over them).
    """
    from autoembedding.probe.selection import check_targets, latency_verdict

    for result in contenders:
        failed = {k: v for k, v in check_targets(result, targets).items() if k in HARD_TARGETS}
        limit = targets.max_query_ms
        if limit is not None and latency_verdict(result, limit) == "undecided":
            failed.pop("max_query_ms", None)  # re-measured once after the race
        if failed:
            result.dropped = "misses a hard target: " + "; ".join(failed.values())
            continue
        for name, metric in _CORRECTNESS:
            limit = getattr(targets, name)
            high = result.intervals.get(metric, (0.0, math.inf))[1]
            if limit is not None and high < limit:
                result.dropped = (
                    f"{metric} 95% CI upper bound {high:.3f} is below the target {limit}"
                )
    alive = [r for r in contenders if r.dropped is None and "ndcg@10" in r.per_query]
    for result, why in behind_leader(alive, looks):
        result.dropped = f"clearly beaten after {n_queries} queries: {why}"


def retime_latency(engine: Engine, targets: Targets, notes: list[str]) -> list[str]:
    """Re-measure, once, the latency of candidates whose ``max_query_ms`` verdict is undecided.

    Undecided (:func:`~.selection.latency_verdict`): the p95 is over the target but its
    interval reaches it, or a timing ran beside an abandoned worker. The candidate's model
    (still loaded) times its queries again, its BM25 search and the shared parts (vector
    search, reads) are timed again, and its latency is assembled from the new timings; the
    final selection judges that p95. Skipped, with a note, when the budget has no time left.

    Returns:
        The labels re-measured.
    """
    from autoembedding.probe.latency import latency_verdict, timed

    limit = targets.max_query_ms
    if limit is None:
        return []
    labels = {
        label
        for label, r in engine.results.items()
        if r.error is None
        and r.dropped is None
        and not r.latency.get("retimed")
        and latency_verdict(r, limit) == "undecided"
    }
    if not labels:
        return []
    if engine.deadline is not None and engine.deadline - time.perf_counter() < _RETIME_S:
        notes.append(
            f"The latency of {', '.join(sorted(labels))} was not re-measured: budget_s has no "
            "time left (judged on the first timing)."
        )
        return []
    serving = engine.lexical.serving
    serving.forget()
    hybrids = {h.label: h for h in engine.lexical.hybrids}
    dense = {h.parts[0].label for lb, h in hybrids.items() if lb in labels} | labels
    lexical = {h.parts[1].label for lb, h in hybrids.items() if lb in labels} | labels
    texts = [q.text for q in engine.queries]
    for model in engine.models.values():
        if model.base is None or not texts or not any(c.label in dense for c in model.variants):
            continue
        timing = timed(partial(_embed_one, model.base, texts), wait_s=serving.wait_s())
        model.latencies_ms[:] = timing.ms
        model.latency_contended = timing.contended
    for label, run in engine.lexical.runs.items():
        if label in lexical and run.served and texts:
            run.served.clear()
            run.time_served(texts, serving.docs)
    for model in engine.models.values():  # every dense latency, from the new shared parts
        for cand in model.variants:
            result = engine.results[cand.label]
            if result.error is None and cand.label in model.views:
                serving.dense(result, model, model.views[cand.label].dim)
    engine.lexical.reassemble()
    for label in labels:
        engine.results[label].latency["retimed"] = True
    notes.append(
        f"Re-measured the latency of {', '.join(sorted(labels))} once: its query p95 was over "
        f"max_query_ms={limit:g} but not clearly (its interval reached the target, or it was "
        "timed beside an abandoned worker)."
    )
    return sorted(labels)


def _embed_one(adapter: Any, texts: Sequence[str], i: int) -> object:
    return adapter.embed_query(texts[i % len(texts)])


def stop_reason(contenders: Sequence[CandidateResult], targets: Targets) -> str | None:
    """Why the race should stop growing the sample, whatever the budget (``None``: go on).

    Args:
        contenders: Results still in the race.
        targets: The user's targets.

    Returns:
        The reason, worded for the report's notes, or ``None``.
    """
    if not contenders:
        return "no candidate left in the race"
    if len(contenders) == 1:
        only = contenders[0]
        if not target_undecided(only, targets):
            return f"only {only.candidate.label} is left in the race"
    ranked = sorted(contenders, key=lambda r: -r.metrics.get("ndcg@10", 0.0))
    from autoembedding.probe.selection import ALPHA, paired_p

    leader, second = ranked[0], ranked[1 % len(ranked)]
    p = paired_p(leader, second) if len(ranked) > 1 else None
    if p is not None and p < ALPHA and not target_undecided(leader, targets):
        return (
            f"{leader.candidate.label} leads {second.candidate.label} significantly "
            f"(paired p = {p:.3f})"
        )
    return None


def budget_reason(estimate: float, budget_s: float, t0: float) -> str | None:
    """Why the next stage must not start: it would overrun the budget (``None``: it fits).

    Args:
        estimate: Predicted seconds of the next stage (:meth:`Engine.predict_s`, after
            :meth:`Engine.fit_budget` dropped what does not fit).
        budget_s: The probe's budget.
        t0: ``time.perf_counter()`` when the probe started.
    """
    spent = time.perf_counter() - t0
    if spent + estimate * _SAFETY > budget_s:
        return (
            f"the next stage (~{estimate:.0f} s) would overrun budget_s={budget_s:g} "
            f"({spent:.0f} s spent)"
        )
    return None


def target_undecided(result: CandidateResult, targets: Targets) -> bool:
    """Whether a correctness target lies inside the candidate's 95% interval."""
    for name, metric in _CORRECTNESS:
        limit = getattr(targets, name)
        if limit is None or metric not in result.intervals:
            continue
        low, high = result.intervals[metric]
        if low < limit <= high:
            return True
    return False
