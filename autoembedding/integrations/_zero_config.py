"""What a zero-config ``AutoEmbedding`` races, decided up front from the catalog (issue 24.7).

A plain ``AutoEmbedding()`` probes inside the user's first ``add_texts``, so the probe must cost
about what embedding that batch with the offline default costs, and pick the same model on a
rerun. The time budget must not decide: the candidates and the sample size are chosen here,
before any model runs, from the catalog's figures; the probe's ``budget_s`` stays only a hard
safety stop (a probe it cut is reported with a warning).

* **Cost of a model**, per document, relative to
  :data:`~autoembedding.catalog.OFFLINE_DEFAULT`: ``parameters x min(max_tokens, 512)``, halved
  for quantised (int8, 4-bit) entries (:func:`relative_cost`). A rough figure, but one that
  orders the catalog's models as measured (docs/integrations.md).
* **Candidates**: every model available offline whose cost is at most :data:`COST_CAP` times
  the default's, one form per underlying model (the cheapest: an int8 export of the default
  stands for the default itself; the same weights score the same). Models left out are named in
  the plan (and logged); pass ``candidates=[...]`` to race them.
* **Sample**: as many documents as keep the probe's encoding within :data:`PROBE_SHARE` of what
  embedding the first batch with the default costs, between :data:`MIN_SAMPLE` and
  :data:`PROBE_SAMPLE_SIZE`.

Example:
    >>> from autoembedding.candidates import Candidate
    >>> plan = plan_zero_config(200, [Candidate("fake/a"), Candidate("fake/b")])
    >>> plan.labels, plan.sample_size
    (['fake/a', 'fake/b'], 50)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from autoembedding.candidates import Candidate
from autoembedding.errors import AutoEmbeddingError

__all__ = [
    "COST_CAP",
    "MIN_SAMPLE",
    "PROBE_SAMPLE_SIZE",
    "PROBE_SHARE",
    "ZeroConfigPlan",
    "plan_zero_config",
    "relative_cost",
]

#: At most this many documents are probed (a seeded sample); the probe cuts each one at the
#: longest candidate's input window, so memory does not grow with the first batch.
PROBE_SAMPLE_SIZE = 200
#: A zero-config probe races only models at most this many times as costly per document as the
#: offline default (the goal: a zero-config first batch within 1.5x of a pinned one).
COST_CAP = 1.5
#: The probe's encoding work is kept within this share of embedding the first batch with the
#: default (the rest of the 1.5x goes to loading the candidates and the winner's own batch).
PROBE_SHARE = 0.5
#: The smallest sample a zero-config probe draws (or the whole batch, when smaller).
MIN_SAMPLE = 50
#: Tokens the cost figure counts at most per document (longer windows read mostly padding-free
#: text of typical chunks only up to about this).
_TOKENS_CAP = 512


@dataclass(frozen=True)
class ZeroConfigPlan:
    """The candidates and sample size of a zero-config probe, fixed before it runs.

    Attributes:
        candidates: The candidates raced, cheapest first.
        sample_size: Documents in the probe's pool.
        left_out: ``"label (why)"`` of each available model not raced.
        costs: Each raced candidate's cost relative to the default.
    """

    candidates: list[Candidate]
    sample_size: int
    left_out: list[str] = field(default_factory=list)
    costs: dict[str, float] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        """The candidates' labels."""
        return [c.label for c in self.candidates]

    def describe(self) -> str:
        """One line for the log."""
        raced = ", ".join(f"{label} (x{self.costs[label]:.2f})" for label in self.labels)
        text = f"racing {raced} on {self.sample_size} documents"
        if self.left_out:
            text += f"; left out: {', '.join(self.left_out)}"
        return text


def relative_cost(model_id: str) -> float:
    """Estimated encoding cost per document of ``model_id``, the offline default's being 1.

    Models the catalog does not know (test fakes, custom ids) count as 1.
    """
    from autoembedding.catalog import OFFLINE_DEFAULT

    return _raw_cost(model_id) / _raw_cost(OFFLINE_DEFAULT)


def plan_zero_config(n_docs: int, available: Sequence[Candidate] | None = None) -> ZeroConfigPlan:
    """Choose what a zero-config probe of a first batch of ``n_docs`` documents races.

    Args:
        n_docs: Documents in the first batch (or the collection).
        available: The models that can be loaded now (default: the probe's
            :func:`~autoembedding.probe.candidates.default_candidates`).

    Returns:
        The plan; its candidates are never empty when ``available`` is not (the cheapest model
        is kept even when every model is over the cap).
    """
    if available is None:
        from autoembedding.probe.candidates import default_candidates

        available = default_candidates()
    costs = {c.label: relative_cost(c.model_id) for c in available}
    ordered = sorted(available, key=lambda c: (costs[c.label], c.label))
    raced: list[Candidate] = []
    left_out: list[str] = []
    seen: dict[str, str] = {}
    for cand in ordered:
        weights = _weights_of(cand.model_id)
        if weights in seen:
            left_out.append(f"{cand.label} (same weights as {seen[weights]})")
        elif costs[cand.label] > COST_CAP and raced:
            left_out.append(f"{cand.label} (cost x{costs[cand.label]:.1f} > x{COST_CAP})")
        else:
            raced.append(cand)
            seen[weights] = cand.label
    total = sum(costs[c.label] for c in raced) or 1.0
    size = int(PROBE_SHARE * n_docs / total)
    size = max(min(MIN_SAMPLE, n_docs), min(size, PROBE_SAMPLE_SIZE, n_docs))
    return ZeroConfigPlan(raced, size, left_out, {c.label: costs[c.label] for c in raced})


def _raw_cost(model_id: str) -> float:
    try:
        from autoembedding.catalog import get_spec

        spec = get_spec(model_id)
    except AutoEmbeddingError:
        return _raw_cost_default()
    quantised = bool(spec.export_from) or any(
        tag in spec.id for tag in (":onnx-int8", ":int8", ":q4")
    )
    cost = max(spec.parameters, 1.0) * min(spec.max_tokens, _TOKENS_CAP)
    return cost * (0.5 if quantised else 1.0)


def _raw_cost_default() -> float:
    from autoembedding.catalog import OFFLINE_DEFAULT, get_spec

    spec = get_spec(OFFLINE_DEFAULT)
    return max(spec.parameters, 1.0) * min(spec.max_tokens, _TOKENS_CAP)


def _weights_of(model_id: str) -> str:
    """What identifies a model's weights: its hub id (forms of one model share it)."""
    try:
        from autoembedding.catalog import get_spec

        spec = get_spec(model_id)
    except AutoEmbeddingError:
        return model_id
    return spec.export_from or spec.hub_id or spec.id
