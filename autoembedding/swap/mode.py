"""Swap how a collection is searched: to BM25, to a hybrid of its vectors and BM25, or back.

A *retrieval-mode* swap changes the collection's model record (``retrieval``, ``tokenizer``,
``fusion``, ``fusion_weight``, ``rrf_k``) and builds the BM25 index beside it
(:func:`autoembedding.retrieval.store.build_index`); it re-embeds nothing:

* ``bm25`` / ``bm25:<lang>``: the vectors stay (new documents are still embedded with the
  recorded model, so a later swap back to dense needs no re-embedding);
* ``hybrid:<dense>+bm25[:<lang>]`` (convex) and ``hybrid-rrf:<dense>+bm25[:<lang>]``: when
  ``<dense>`` is not the recorded model (or its options), a normal swap to it comes first
  (re-embedded, verified, the original kept as a backup); then the index is built on the new
  collection;
* a dense label on a collection that already holds that model's vectors but serves BM25 or a
  hybrid: back to dense, the index dropped.

The journal lives in the collection's metadata (``autoembedding:swap_mode_*``, see
:mod:`~.journal`): the phase while the index is built (a rerun finishes it) and the records
before each mode swap, the latest last (:func:`~.mode_undo.undo_mode` restores the latest,
and undoes the dense swap a hybrid began with).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from autoembedding.chroma.records import read_record
from autoembedding.errors import CollectionError
from autoembedding.progress import ProgressFn
from autoembedding.record import METADATA_PREFIX
from autoembedding.swap.guard import locked
from autoembedding.swap.journal import (
    K_MODE_PHASE,
    K_MODE_TARGET,
    Journal,
    staging_name,
)
from autoembedding.swap.mode_apply import apply_mode, write_metadata
from autoembedding.swap.mode_target import (
    PHASE_REEMBED,
    ModeTarget,
    parse_target,
)
from autoembedding.swap.result import SwapResult
from autoembedding.swap.store import get_or_none

__all__ = ["swap_mode", "write_metadata"]

_SWAP_PREFIX = METADATA_PREFIX + "swap_"


# ---------------------------------------------------------------------------- swap
@locked("swap")
def swap_mode(
    collection: Any,
    model: Any,
    *,
    client: Any,
    fusion_weight: float | None = None,
    page_size: int = 256,
    progress: bool | ProgressFn = True,
    **dense_options: Any,
) -> SwapResult:
    """Serve a collection with BM25 or a hybrid (or back with dense), keeping its vectors.

    Called by :func:`~autoembedding.swap.swap` for lexical and hybrid labels; a
    rerun after a crash finishes the swap (or is a no-op).

    Args:
        collection: The collection or its name.
        model: ``"bm25[:lang]"``, ``"hybrid[-rrf]:<dense>+bm25[:lang]"``, a dense label (back to
            dense), or a probe :class:`~autoembedding.candidates.Candidate` /
            ``CandidateResult`` (whose convex weight and tokenizer are used).
        client: The Chroma client.
        fusion_weight: A convex hybrid's dense weight (default: the probe's, else 0.5).
        page_size: Records read (and, for a hybrid's dense swap, embedded) at a time.
        progress: As for :func:`~autoembedding.swap.swap`.
        **dense_options: The other options of a hybrid's dense swap (``drop_old``,
            ``verify_sample``, ``engine``, adapter options, ...).

    Returns:
        A :class:`SwapResult` with the mode, tokenizer, fusion and the index's build time/size.

    Raises:
        InvalidArgumentError: For a bad label or weight (before anything is touched).
        UnknownModelError: For a hybrid whose dense model is unknown (idem).
        CollectionError: If the collection records no model (a BM25 swap needs it: new
            documents are embedded with it), or Chroma fails.
        SwapError: If a phase fails; rerun the same call to finish.
    """
    start = time.perf_counter()
    target = parse_target(model, fusion_weight)
    if client is None:
        raise CollectionError(
            "swap() needs the Chroma client: swap(collection, 'bm25', client=...)."
        )
    name = collection if isinstance(collection, str) else str(collection.name)
    dense: SwapResult | None = None
    reembedded = False
    if target.retrieval == "hybrid":
        dense, reembedded = _dense_part(
            client, name, target, page_size=page_size, progress=progress, options=dense_options
        )
    return apply_mode(
        client, name, target, start=start, dense=dense, reembedded=reembedded,
        page_size=page_size, progress=progress,
    )  # fmt: skip


def _dense_part(
    client: Any,
    name: str,
    target: ModeTarget,
    *,
    page_size: int,
    progress: bool | ProgressFn,
    options: Mapping[str, Any],
) -> tuple[SwapResult | None, bool]:
    """Swap to a hybrid's dense model first when the collection holds other vectors.

    Returns:
        ``(the dense swap's result or None, whether this mode swap re-embedded)``.
    """
    from autoembedding.swap.dense import swap_vectors
    from autoembedding.swap.model import resolve_model

    swap_keys = ("drop_old", "verify_sample", "engine", "ray_address", "workers", "gpus_per_worker")
    adapter_options = {k: v for k, v in options.items() if k not in swap_keys}
    _, record = resolve_model(target.dense, adapter_options)  # an unknown model fails here
    live = get_or_none(client, name)
    journal = Journal.of(live)
    current = read_record(live) if live is not None else None
    staging = get_or_none(client, staging_name(name, record))
    if staging is None and current is not None and current.same_vectors_as(record):
        if not journal.switching_of(name):
            return None, _reembedded_by(client, journal.backup, target)
        # else: crashed before the switch cleared its journal; the dense swap finishes it
    elif live is not None and not journal.switching_of(name):
        marks = {K_MODE_PHASE: PHASE_REEMBED, K_MODE_TARGET: target.to_json()}
        write_metadata(live, journal.metadata, current, marks)
    result = swap_vectors(
        name,
        target.dense,
        client=client,
        page_size=page_size,
        progress=progress,
        keep_retrieval=True,
        **options,
    )
    return result, True


def _reembedded_by(client: Any, backup: str | None, target: ModeTarget) -> bool:
    """Whether the backup carries the mark of this hybrid's dense swap (a rerun after a kill)."""
    original = get_or_none(client, backup) if backup else None
    meta = Journal.of(original).metadata
    if meta.get(K_MODE_PHASE) != PHASE_REEMBED:
        return False
    try:
        return json.loads(str(meta.get(K_MODE_TARGET)))["dense"] == target.dense
    except (ValueError, KeyError, TypeError):
        return False
