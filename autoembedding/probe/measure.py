"""One model's work in one stage of the probe, made inside the time box's worker thread.

:func:`measure` loads the model (first stage), times single queries, encodes the stage's pool
documents, queries and contradiction pairs to raw vectors, and builds one view per candidate.
Encoding stops between steps of two batches once the time box gives up (``cancel`` is set), so an
abandoned run does not keep a native library busy (:mod:`.timebox`).

Single queries are timed with :func:`~.latency.timed` (the embedding part of a served query's
latency, :mod:`.latency`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import numpy as np

from autoembedding.adapters.base import BaseAdapter, Precision
from autoembedding.candidates import Candidate
from autoembedding.probe.latency import Timing, check_cancel, timed
from autoembedding.probe.stages import Stage

if TYPE_CHECKING:
    from autoembedding.probe.contradiction import ContradictionPair

__all__ = [
    "CALIBRATION_DOCS",
    "Model",
    "ModelRun",
    "TooSlowForBudget",
    "check_vectors",
    "measure",
    "predict_doc_s",
]


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
        check_cancel(cancel)
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
    check_cancel(cancel)
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
    check_cancel(cancel)
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


def _encode_pairs(
    adapter: BaseAdapter, pairs: Sequence[ContradictionPair]
) -> tuple[np.ndarray, np.ndarray]:
    """Raw vectors of the contradiction pairs: their queries, then originals and flipped twins."""
    queries = adapter.encode_raw([p.query for p in pairs], is_query=True)
    texts = [p.original for p in pairs] + [p.flipped for p in pairs]
    return queries, adapter.encode_raw(texts, is_query=False)


def _contradiction(view: BaseAdapter, queries: np.ndarray, texts: np.ndarray) -> float:
    """Share of pairs where the view ranks the original above its flipped twin."""
    from autoembedding.probe.contradiction import contradiction_score_from_vectors

    n = len(queries)
    docs = view.postprocess(texts)
    return float(contradiction_score_from_vectors(view.postprocess(queries), docs[:n], docs[n:]))
