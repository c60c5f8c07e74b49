"""The selector's value types: a candidate model with its options, and the user's targets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from autoembedding.adapters import get_adapter
from autoembedding.adapters.base import BaseAdapter

__all__ = ["Candidate", "CandidateResult", "ProbeReport", "Targets"]

_LABEL = re.compile(r"^(?P<id>.+?)(?:@(?P<dim>\d+))?(?::(?P<prec>float32|int8|binary))?$")


@dataclass(frozen=True)
class Candidate:
    """A model plus the options that change its vectors (Matryoshka dim, precision).

    Attributes:
        model_id: Catalog id, alias or path.
        truncate_dim: Matryoshka truncation, or ``None``.
        precision: ``"float32"``, ``"int8"`` or ``"binary"``.
        options: Other adapter options (``device``, ``base_url``, ...), as sorted pairs.
    """

    model_id: str
    truncate_dim: int | None = None
    precision: str = "float32"
    options: tuple[tuple[str, Any], ...] = field(default=())

    @classmethod
    def parse(cls, text: str) -> Candidate:
        """Parse ``"id"``, ``"id@256"``, ``"id:int8"`` or ``"id@256:binary"``."""
        match = _LABEL.match(text.strip())
        if not match:
            raise ValueError(f"Cannot parse candidate {text!r}; expected 'id[@dim][:precision]'.")
        dim = match.group("dim")
        return cls(
            model_id=match.group("id"),
            truncate_dim=int(dim) if dim else None,
            precision=match.group("prec") or "float32",
        )

    @property
    def label(self) -> str:
        """``id[@dim][:precision]``, the form :meth:`parse` reads."""
        label = self.model_id
        if self.truncate_dim:
            label += f"@{self.truncate_dim}"
        if self.precision != "float32":
            label += f":{self.precision}"
        return label

    def build(self) -> BaseAdapter:
        """Build the adapter (weights load on first use)."""
        return get_adapter(
            self.model_id,
            truncate_dim=self.truncate_dim,
            precision=self.precision,  # type: ignore[arg-type]
            **dict(self.options),
        )


@dataclass(frozen=True)
class Targets:
    """What the user needs; a candidate that misses any target is not picked.

    Every field is optional; ``None`` means no constraint.

    Attributes:
        max_query_ms: Single-query latency p95, milliseconds.
        min_hit_at_5: Minimum hit@5 on the probe queries (0..1).
        min_ndcg_at_10: Minimum nDCG@10 on the probe queries (0..1).
        max_bytes_per_vector: Storage per vector (dim x bytes per component).
        min_docs_per_s: Minimum batch encode throughput.
        max_load_s: Maximum model load time, seconds.
        min_contradiction: Minimum contradiction-probe score (0..1).
    """

    max_query_ms: float | None = None
    min_hit_at_5: float | None = None
    min_ndcg_at_10: float | None = None
    max_bytes_per_vector: float | None = None
    min_docs_per_s: float | None = None
    max_load_s: float | None = None
    min_contradiction: float | None = None


@dataclass
class CandidateResult:
    """What the probe measured for one candidate.

    Attributes:
        candidate: The candidate measured.
        metrics: Mean retrieval metrics on the probe queries: ``hit@1``, ``hit@3``, ``hit@5``,
            ``recall@10``, ``mrr@10``, ``ndcg@10``.
        intervals: Bootstrap 95% interval per metric, ``(low, high)``.
        per_query: Per-query values of each metric (for paired tests).
        query_p50_ms: Single-query latency median, milliseconds.
        query_p95_ms: Single-query latency p95, milliseconds.
        docs_per_s: Batch encode throughput on the sampled documents.
        load_s: Model load time, seconds.
        bytes_per_vector: Storage per vector at its dim and precision.
        dim: Output dimension.
        contradiction: Share of contradiction pairs where the original ranks above its flipped
            twin (``None`` if not measured).
        meets_targets: Whether every target is met.
        failed_targets: Target name -> human-readable shortfall (e.g. ``"p95 41 ms > 20 ms"``).
        dropped: Why the probe stopped measuring it early (``None`` if it ran to the end).
        error: The error that stopped it (crash, time-out), if any.
    """

    candidate: Candidate
    metrics: dict[str, float] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    per_query: dict[str, Any] = field(default_factory=dict)
    query_p50_ms: float | None = None
    query_p95_ms: float | None = None
    docs_per_s: float | None = None
    load_s: float | None = None
    bytes_per_vector: float | None = None
    dim: int | None = None
    contradiction: float | None = None
    meets_targets: bool = False
    failed_targets: dict[str, str] = field(default_factory=dict)
    dropped: str | None = None
    error: str | None = None


@dataclass
class ProbeReport:
    """The probe's result: every candidate's measures, the winner (or none) and why.

    Attributes:
        results: One entry per candidate, best first.
        winner: The chosen candidate's result, or ``None`` when nothing met the targets.
        reason: Why the winner won, or which targets failed and by how much.
        targets: The targets applied.
        query_kind: ``"labelled"`` or ``"label-free"``.
        n_queries: Probe queries used.
        n_docs: Documents in the search pool.
        seconds: Wall time of the probe.
        collection: Name of the probed collection, if any.
        notes: What the probe did differently from what was asked (smaller sample, early stop,
            skipped queries), one sentence each.
    """

    results: list[CandidateResult]
    winner: CandidateResult | None
    reason: str
    targets: Targets = field(default_factory=Targets)
    query_kind: str = "label-free"
    n_queries: int = 0
    n_docs: int = 0
    seconds: float = 0.0
    collection: str | None = None
    notes: list[str] = field(default_factory=list)
