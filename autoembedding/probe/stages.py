"""Stage planning: split the sample and the probe queries into the rounds of the race.

A *stage* is one round of the race: the pool documents and queries it adds (a quarter of the
sample, another quarter, the last half). Queries are the user's labelled ones, or label-free ones
cut from the documents.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autoembedding.errors import AutoEmbeddingError, CollectionError, ProbeWarning
from autoembedding.probe.queries import (
    ProbeDoc,
    ProbeQuery,
    ProbeSet,
    build_label_free,
    labelled_probe_set,
    load_beir,
)
from autoembedding.probe.sampling import MIN_DOCS, cut_doc

__all__ = [
    "DEFAULT_N_QUERIES",
    "LABEL_FREE_QUERIES_PER_DOC",
    "STAGE_FRACTIONS",
    "Stage",
    "plan_stages",
]

#: Labelled queries used when ``n_queries`` is not given (label-free probes default to
#: :data:`LABEL_FREE_QUERIES_PER_DOC` queries per sampled document).
DEFAULT_N_QUERIES = 80
#: Label-free queries per sampled document by default (and at most): each is one sentence cut
#: from its document, so they cost little next to the documents and double the paired tests'
#: power. With one per document, on SciFact (200 documents, budget 100 s, seed 0) the convex
#: MiniLM hybrid's lead over BM25 (0.015 nDCG@10) was not significant (paired p = 0.11) although
#: real claims put it 0.049 ahead (docs/probe-queries.md).
LABEL_FREE_QUERIES_PER_DOC = 2
#: Share of the sample added at each stage.
STAGE_FRACTIONS = (0.25, 0.25, 0.5)
#: Ids asked of the collection per ``get`` call: ids only, then with documents.
_IDS_PER_GET = 512
_DOCS_PER_GET = 256

Labelled = list[tuple[str, frozenset[str]]]


@dataclass
class Stage:
    """One round of the race: the pool documents and the queries it adds.

    Attributes:
        pool: Documents added to the search pool.
        queries: Queries added (they may have relevant documents from earlier stages).
    """

    pool: list[ProbeDoc]
    queries: list[ProbeQuery]


def plan_stages(
    docs: list[ProbeDoc],
    queries: Any,
    collection: Any,
    n_queries: int | None,
    seed: int,
    max_doc_chars: int | None,
    notes: list[str],
) -> tuple[list[Stage], str]:
    """Plan the stages of the race from the sample and the ``queries=`` argument.

    Args:
        docs: The sampled (and cut) documents.
        queries: ``None`` for label-free queries, a :class:`ProbeSet`, ``(query, relevant_ids)``
            pairs, or a ``(queries.jsonl, qrels.tsv)`` pair of BEIR paths.
        collection: The collection relevant documents are fetched from, or ``None``.
        n_queries: Queries at full sample (``None``: the default of the query kind).
        seed: Seed of the query choice and of the label-free queries.
        max_doc_chars: The cut applied to fetched relevant documents (``None``: none).
        notes: The report's notes.

    Returns:
        The stages and the query kind (``"label-free"``, ``"labelled"`` or a probe set's kind).

    Raises:
        CollectionError: If no usable query can be made.
    """
    if queries is None:
        wanted = n_queries or LABEL_FREE_QUERIES_PER_DOC * len(docs)
        return _shuffled(_label_free_stages(docs, wanted, seed, notes), seed), "label-free"
    if isinstance(queries, ProbeSet):
        return _shuffled([Stage(list(queries.pool), list(queries.queries))], seed), queries.kind
    if _is_beir_paths(queries):
        labelled = load_beir(Path(queries[0]), Path(queries[1]))
    else:
        labelled = [(str(text), frozenset(str(i) for i in ids)) for text, ids in queries]
    if not labelled:
        raise CollectionError("queries= holds no (query, relevant ids) pairs.")
    n_labelled = n_queries or DEFAULT_N_QUERIES
    stages = _labelled_stages(labelled, docs, collection, n_labelled, seed, max_doc_chars, notes)
    return _shuffled(stages, seed), "labelled"


def _shuffled(stages: list[Stage], seed: int) -> list[Stage]:
    """Each stage's pool in a seeded random order.

    Pools are built relevant documents (or query sources) first; a retriever that ranks ties
    by position would otherwise find them for free (the metrics also rank ties relevant-last).
    """
    rng = np.random.default_rng([seed, 23])
    return [Stage([s.pool[i] for i in rng.permutation(len(s.pool))], s.queries) for s in stages]


def _is_beir_paths(queries: Any) -> bool:
    if not isinstance(queries, (tuple, list)) or len(queries) != 2:
        return False
    return all(isinstance(q, (str, Path)) and Path(q).suffix in (".jsonl", ".tsv") for q in queries)


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
    docs: list[ProbeDoc], n_queries: int, seed: int, notes: list[str]
) -> list[Stage]:
    stages: list[Stage] = []
    offset = 0
    n_queries = min(n_queries, LABEL_FREE_QUERIES_PER_DOC * len(docs))
    doc_parts, query_parts = _split(len(docs)), _split(n_queries)
    if len(docs) < 4 * MIN_DOCS:  # too small to race in several stages
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
                stages.append(Stage(list(chunk), []))
                continue
            raise CollectionError(
                "Cannot build label-free probe queries from these documents: "
                f"{str(exc).rstrip('.')}. Documents "
                "need a few sentences each to cut a query from; pass labelled queries=[(query, "
                "relevant_ids), ...] instead."
            ) from exc
        stages.append(Stage(list(probe_set.pool), list(probe_set.queries)))
    if not any(s.queries for s in stages):
        raise CollectionError(
            "No label-free probe query could be cut from the sampled documents (too short: a "
            "query is a sentence cut from a document of several). Pass labelled queries=[(query, "
            "relevant_ids), ...] or probe longer documents."
        )
    return stages


def _skipped(count: int, total: int, notes: list[str]) -> None:
    msg = (
        f"{count} of {total} labelled queries have no relevant document in the collection and "
        "were skipped."
    )
    warnings.warn(msg, ProbeWarning, stacklevel=5)  # probe's caller
    notes.append(msg)


def _present_only(labelled: Labelled, known: set[str], collection: Any) -> tuple[Labelled, int]:
    """Keep the queries with a relevant id in the collection (asks for ids only: cheap).

    Returns the queries kept (all of them when none has one) and how many were skipped.
    """
    wanted = sorted({i for _, rel in labelled for i in rel} - known)
    present = set(known)
    for start in range(0, len(wanted), _IDS_PER_GET):
        got = collection.get(ids=wanted[start : start + _IDS_PER_GET], include=[])
        present.update(got.get("ids") or [])
    found = [(t, rel) for t, rel in labelled if rel & present]
    return (found, len(labelled) - len(found)) if found else (labelled, 0)


def _fetch(
    ids: list[str], collection: Any, max_doc_chars: int | None, by_id: dict[str, ProbeDoc]
) -> None:
    """Add the documents of ``ids`` to ``by_id``, cut like the sample."""
    for start in range(0, len(ids), _DOCS_PER_GET):
        got = collection.get(ids=ids[start : start + _DOCS_PER_GET], include=["documents"])
        for doc_id, text in zip(got.get("ids") or [], got.get("documents") or [], strict=False):
            if isinstance(text, str) and text.strip():
                doc = ProbeDoc(id=doc_id, text=text)
                by_id[doc_id] = cut_doc(doc, max_doc_chars) if max_doc_chars else doc


def _labelled_stages(
    labelled: Labelled,
    docs: list[ProbeDoc],
    collection: Any,
    n_queries: int,
    seed: int,
    max_doc_chars: int | None,
    notes: list[str],
) -> list[Stage]:
    rng = np.random.default_rng(seed + 1)
    by_id = {d.id: d for d in docs}
    if collection is not None:
        total = len(labelled)
        labelled, skipped = _present_only(labelled, set(by_id), collection)
        if skipped:
            _skipped(skipped, total, notes)
    order = rng.permutation(len(labelled))
    chosen = [labelled[i] for i in order[:n_queries]]
    needed = sorted({i for _, rel in chosen for i in rel} - set(by_id))
    if needed and collection is not None:
        _fetch(needed, collection, max_doc_chars, by_id)
    usable = []
    for text, rel in chosen:
        rel_here = frozenset(i for i in rel if i in by_id)
        if rel_here:
            usable.append((text, rel_here))
    if len(usable) < len(chosen):
        _skipped(len(chosen) - len(usable), len(chosen), notes)
    if not usable:
        raise CollectionError(
            "None of the labelled queries' relevant ids is in the collection; check that the "
            "qrels use the collection's document ids."
        )
    q_parts = _split(len(usable)) if len(usable) >= 4 * MIN_DOCS else [len(usable)]
    d_parts = _split(len(docs)) if len(q_parts) > 1 else [len(docs)]
    stages: list[Stage] = []
    placed: set[str] = set()
    cumulative: list[ProbeDoc] = []
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
        stages.append(Stage(pool, list(probe_set.queries) if probe_set else []))
    return stages
