"""The selector's value types: a candidate model with its options, and the user's targets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from autoembedding.adapters import get_adapter
from autoembedding.adapters.base import BaseAdapter
from autoembedding.arguments import number
from autoembedding.errors import InvalidArgumentError

__all__ = ["Candidate", "CandidateResult", "ProbeReport", "Targets"]

#: Target field -> (minimum, maximum, minimum excluded): what a target can be and still be met.
_TARGET_RANGES: dict[str, tuple[float, float | None, bool]] = {
    "max_query_ms": (0.0, None, True),
    "min_hit_at_5": (0.0, 1.0, False),
    "min_ndcg_at_10": (0.0, 1.0, False),
    "max_bytes_per_vector": (0.0, None, True),
    "min_docs_per_s": (0.0, None, False),
    "max_load_s": (0.0, None, True),
    "min_contradiction": (0.0, 1.0, False),
}

_LABEL = re.compile(r"^(?P<id>.+?)(?:@(?P<dim>\d+))?(?::(?P<prec>float32|int8|binary))?$")
#: The lexical candidate's id; ``bm25:<lang>`` forces its tokenizer's language.
LEXICAL = "bm25"
#: Hybrid label prefix -> fusion.
HYBRID_FUSIONS = {"hybrid": "convex", "hybrid-rrf": "rrf"}
_HYBRID = re.compile(r"^(?P<dense>.+)\+(?P<lexical>bm25(?::.+)?)$", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    """A model plus the options that change its vectors (Matryoshka dim, precision).

    Besides dense models, a candidate can be lexical or a hybrid (:attr:`kind`); their whole
    label is their ``model_id``:

    * ``bm25``: BM25 with the language detected from the documents; ``bm25:<lang>`` forces it
      (``bm25:zh``, ``bm25:en``, ``bm25:mixed:zh+en``; see
      :class:`~autoembedding.lexical.Tokenizer`).
    * ``hybrid:<dense label>+bm25[:<lang>]``: convex fusion of normalised scores, the dense
      weight cross-validated on the probe queries.
    * ``hybrid-rrf:<dense label>+bm25[:<lang>]``: reciprocal rank fusion (k = 60).

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
        """Parse a label: ``"id[@dim][:precision]"``, ``"bm25[:lang]"`` or a hybrid's.

        Hybrid labels are ``"hybrid:<dense label>+bm25[:lang]"`` (convex) and
        ``"hybrid-rrf:<dense label>+bm25[:lang]"``; the whole label is the ``model_id``.

        Raises:
            ValueError: If the label cannot be parsed.
        """
        text = text.strip()
        head, colon, rest = text.partition(":")
        if head.lower() == LEXICAL:
            return cls(model_id=LEXICAL + colon + rest)
        if head.lower() in HYBRID_FUSIONS and colon:
            parts = _HYBRID.match(rest)
            dense = cls.parse(parts.group("dense")) if parts else None
            if parts is None or dense is None or dense.kind != "dense":
                raise ValueError(
                    f"Cannot parse hybrid candidate {text!r}; expected "
                    f"'{head.lower()}:<dense label>+bm25[:<lang>]', e.g. "
                    f"'{head.lower()}:intfloat/multilingual-e5-small:q4+bm25'."
                )
            lexical = cls.parse(parts.group("lexical")).model_id
            return cls(model_id=f"{head.lower()}:{dense.label}+{lexical}")
        match = _LABEL.match(text)
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

    @property
    def kind(self) -> str:
        """``"dense"`` (an embedding model), ``"lexical"`` (``bm25``) or ``"hybrid"``."""
        head = self.model_id.partition(":")[0].lower()
        if head == LEXICAL:
            return "lexical"
        return "hybrid" if head in HYBRID_FUSIONS and "+" in self.model_id else "dense"

    @property
    def fusion(self) -> str | None:
        """A hybrid's fusion, ``"convex"`` or ``"rrf"``; ``None`` for other candidates."""
        if self.kind != "hybrid":
            return None
        return HYBRID_FUSIONS[self.model_id.partition(":")[0].lower()]

    @property
    def parts(self) -> tuple[Candidate, Candidate]:
        """A hybrid's ``(dense, lexical)`` candidates (the dense one keeps these options).

        Raises:
            ValueError: If the candidate is not a hybrid.
        """
        if self.kind != "hybrid":
            raise ValueError(f"{self.label!r} is not a hybrid candidate.")
        match = _HYBRID.match(self.model_id.partition(":")[2])
        assert match is not None  # kind == "hybrid" and parse made it
        dense = Candidate.parse(match.group("dense"))
        return (
            Candidate(dense.model_id, dense.truncate_dim, dense.precision, self.options),
            Candidate(match.group("lexical")),
        )

    def build(self) -> BaseAdapter:
        """Build the adapter (weights load on first use).

        Raises:
            InvalidArgumentError: For a lexical or hybrid candidate, which has no embedding
                adapter (a hybrid's dense part has: ``candidate.parts[0].build()``).
        """
        if self.kind != "dense":
            raise InvalidArgumentError(
                f"{self.label!r} is a {self.kind} candidate, not an embedding model: it has no "
                "embedding adapter."
                + (
                    " Its dense part does: candidate.parts[0].build()."
                    if self.kind == "hybrid"
                    else ""
                ),
                argument="candidate",
            )
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

    def __post_init__(self) -> None:
        """Refuse targets no candidate could meet or that are not numbers, naming the field.

        Raises:
            InvalidArgumentError: If a target is not a finite number, a share (hit@5, nDCG@10,
                contradiction) is outside 0..1, or a ceiling/floor is not > 0 (``>= 0`` for
                ``min_docs_per_s``).
        """
        for name, (minimum, maximum, exclusive) in _TARGET_RANGES.items():
            value = getattr(self, name)
            if value is not None:
                number(value, name, minimum=minimum, maximum=maximum, exclusive=exclusive)


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
        lexical: For a lexical or hybrid candidate, JSON-able facts: the tokenizer and whether
            its language was detected or forced, the index size and build time; a hybrid's
            fusion and convex weight; ``not_picked`` when the selection refused it.
        part_ndcg: For a hybrid, each part's per-query nDCG@10 on the same queries (the
            selection's paired test of the hybrid against its better part).
        latency: JSON-able facts of the query latency as served on the whole collection: the
            p95's interval, queries timed, each part's median and how it was timed (measured
            or extrapolated), whether a timing ran beside an abandoned worker (``contended``)
            and whether it was re-measured (``retimed``).
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
    lexical: dict[str, Any] = field(default_factory=dict)
    part_ndcg: dict[str, Any] = field(default_factory=dict)
    latency: dict[str, Any] = field(default_factory=dict)


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
        query_kinds: How many of the queries that decided the pick (those scored in the last
            stage kept) are of each kind: ``"labelled"``, or the label-free kinds ``"ict"``,
            ``"title"``, ``"keyphrase"``, ``"llm"`` (empty when unknown).
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
    query_kinds: dict[str, int] = field(default_factory=dict)
