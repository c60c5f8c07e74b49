"""Before a later stage of the race: which models the time left can still take.

A model whose next stage would not fit in what is left of the budget (with the others) leaves
the race only when every candidate it takes with it (its own, and the hybrids that fuse them)
is significantly behind the leader, by the race's paired test
(:func:`~.drops.behind_leader`). A model that is not shown behind is never dropped for time:
the comparison would then be between a candidate measured on more documents and one measured
on fewer, and the budget, not the data, would decide. When such a model does not fit, nothing
is dropped and the race stops at the stage it reached; the note says the budget forced it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autoembedding.candidates import Candidate
    from autoembedding.probe.engine import Engine
    from autoembedding.probe.measure import Model
    from autoembedding.probe.stages import Stage

__all__ = ["fit_budget"]


def fit_budget(engine: Engine, stage: Stage, looks: int = 1) -> str | None:
    """Drop the slowest models that are behind until the stage fits in the time left.

    Args:
        engine: The race's engine (its deadline, models and results).
        stage: The stage about to run.
        looks: The race's stages (the paired test's error rate is split over them).

    Returns:
        What was dropped, or what the budget forced, worded for the report's notes; ``None``
        when the stage fits (or there is no budget).
    """
    from autoembedding.probe.drops import behind_leader

    if engine.deadline is None:
        return None
    left = engine.deadline - time.perf_counter() - engine._reserve_s()
    live = [m for m in engine.models.values() if engine.needed(m)]
    cost = {id(m): m.predict_s(len(stage.pool)) for m in live}
    behind = {r.candidate.label for r, _ in behind_leader(engine.contenders(), looks)}
    dropped: list[str] = []
    kept: list[str] = []

    def droppable(model: Model) -> bool:
        taken = [c.label for c in _taken_with(engine, model)]
        return bool(taken) and all(label in behind for label in taken)

    if sum(cost[id(m)] for m in live if not droppable(m)) > left:
        behind = set()  # what must stay does not fit anyway: dropping others would not help
    for model in sorted(live, key=lambda m: -cost[id(m)]):
        if sum(cost[id(m)] for m in live) <= left:
            break
        taken = [c.label for c in _taken_with(engine, model)]
        if not droppable(model):
            kept.append(model.variants[0].model_id)
            continue
        live.remove(model)
        label = model.variants[0].model_id
        why = (
            f"dropped for budget_s={engine.budget_s:g}: the next stage ({len(stage.pool)} more "
            f"documents) would take {label} ~{cost[id(model)]:.0f} s of the "
            f"~{max(left, 0):.0f} s left, and it is significantly behind the leader; measured "
            f"on the first {engine.n_docs} documents only"
        )
        for name in taken:
            engine.results[name].dropped = why
        dropped.append(f"{label} (~{cost[id(model)]:.0f} s)")
    said = []
    if dropped:
        said.append(
            f"budget_s={engine.budget_s:g}: {', '.join(dropped)} would not fit in the "
            f"~{max(left, 0):.0f} s left for the next stage and, significantly behind the "
            "leader, left the race (with its hybrids)"
        )
    if sum(cost[id(m)] for m in live) > left and kept:
        said.append(
            f"the budget forced a cut: the next stage would not fit in the ~{max(left, 0):.0f} s "
            f"left, and {', '.join(kept)} {'is' if len(kept) == 1 else 'are'} not significantly "
            "behind the leader, so no candidate was dropped for time and the race stops at "
            f"{engine.n_docs} documents; a larger budget_s measures on more"
        )
    return "; ".join(said) or None


def _taken_with(engine: Engine, model: Model) -> list[Candidate]:
    """The candidates still in the race that leave with ``model``: its own and its hybrids."""
    fused = {c.label for c in model.variants}
    out = []
    for cand in model.variants + engine.lexical.hybrids_of(fused):
        result = engine.results[cand.label]
        if result.error is None and result.dropped is None:
            out.append(cand)
    return out
