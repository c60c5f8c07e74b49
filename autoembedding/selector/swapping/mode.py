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
import shlex
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.chroma.records import read_record, user_metadata
from autoembedding.errors import CollectionError
from autoembedding.record import METADATA_PREFIX, ModelRecord
from autoembedding.selector.progress import ProgressFn
from autoembedding.selector.swapping.journal import (
    K_MODE_PHASE,
    K_MODE_PREV,
    K_MODE_TARGET,
    Journal,
    staging_name,
)
from autoembedding.selector.swapping.lock import locked
from autoembedding.selector.swapping.mode_target import (
    DEFAULT_WEIGHT,
    PHASE_INDEX,
    PHASE_REEMBED,
    ModeTarget,
    Previous,
    dump_previous,
    parse_target,
    previous_records,
)
from autoembedding.selector.swapping.result import SwapResult
from autoembedding.selector.swapping.status import connection_flags
from autoembedding.selector.swapping.store import get_or_none, phase_errors, replace_metadata

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

    Called by :func:`~autoembedding.selector.swapping.swap` for lexical and hybrid labels; a
    rerun after a crash finishes the swap (or is a no-op).

    Args:
        collection: The collection or its name.
        model: ``"bm25[:lang]"``, ``"hybrid[-rrf]:<dense>+bm25[:lang]"``, a dense label (back to
            dense), or a probe :class:`~autoembedding.selector.types.Candidate` /
            ``CandidateResult`` (whose convex weight and tokenizer are used).
        client: The Chroma client.
        fusion_weight: A convex hybrid's dense weight (default: the probe's, else 0.5).
        page_size: Records read (and, for a hybrid's dense swap, embedded) at a time.
        progress: As for :func:`~autoembedding.selector.swapping.swap`.
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
    flags = connection_flags(client)
    dense: SwapResult | None = None
    reembedded = False
    if target.retrieval == "hybrid":
        dense, reembedded = _dense_part(
            client, name, target, page_size=page_size, progress=progress, options=dense_options
        )
    live = get_or_none(client, name)
    if live is None:
        from autoembedding.selector.swapping.complete import missing_collection_error

        raise missing_collection_error(client, name)
    current = read_record(live)
    if current is None:
        again = f"autoembed swap {flags} --collection {shlex.quote(name)} --model"
        raise CollectionError(
            f"Collection {name!r} records no model, so which model must embed its new "
            f"documents is unknown (a {target.retrieval} swap keeps the vectors and embeds new "
            f"documents with it). Record it first by swapping to the model that made its "
            f"vectors (it re-embeds them): {again} <id> ; or swap straight to a hybrid of a "
            f"model: {again} hybrid:<id>+bm25"
        )
    meta = Journal.of(live).metadata
    history = previous_records(meta)
    resuming = meta.get(K_MODE_PHASE) == PHASE_INDEX and bool(history)
    if not resuming and _serves(current, target):
        return _done_already(client, live, current, target, start, flags, dense)
    if resuming:  # the interrupted swap's entry (the record before it) is the latest
        last = history.pop()
        entry = Previous(last.record, last.reembedded or reembedded)
    else:
        entry = Previous(current, reembedded)
    reembedded = entry.reembedded
    changes = {
        K_MODE_PHASE: PHASE_INDEX,
        K_MODE_TARGET: target.to_json(),
        K_MODE_PREV: dump_previous([*history, entry]),
    }
    meta = write_metadata(live, meta, current, changes)
    index_s = index_bytes = index_docs = None
    again = (
        f"The record was not changed. Rerun the same command to finish: autoembed swap {flags} "
        f"--collection {name} --model {target.command_label} ; or undo it: autoembed swap "
        f"{flags} --collection {name} --undo"
    )
    with phase_errors("building the BM25 index", state=again):
        from autoembedding.retrieval.store import build_index, drop_index, index_folder

        if target.retrieval == "dense":
            drop_index(live, client=client)
            record = current.with_retrieval("dense")
        else:
            began = time.perf_counter()
            index = build_index(
                live, target.tokenizer, client=client, page_size=page_size, progress=progress
            )
            index_s = time.perf_counter() - began
            index_docs = index.count
            index_bytes = _folder_bytes(index_folder(live, client=client))
            record = current.with_retrieval(
                target.retrieval,
                tokenizer=index.tokenizer.spec,
                fusion=target.fusion,
                fusion_weight=target.fusion_weight,
                rrf_k=target.rrf_k,
            )
        written = write_metadata(live, meta, record, remove=(K_MODE_PHASE, K_MODE_TARGET))
    if reembedded:
        _clear_reembed_mark(client, Journal.of(get_or_none(client, name)).backup)
    notes = _notes(target, record)
    with chroma_errors("count the records of", collection=name):
        docs = int(live.count())
    return SwapResult(
        name=name,
        record=record,
        backup=dense.backup if dense is not None else Journal(written).backup,
        docs=docs,
        embedded=dense.embedded if dense is not None else 0,
        resumed_from=dense.resumed_from if dense is not None else 0,
        seconds=time.perf_counter() - start,
        docs_per_s=dense.docs_per_s if dense is not None else 0.0,
        verified_vectors=dense.verified_vectors if dense is not None else 0,
        caught_up=dense.caught_up if dense is not None else 0,
        synced=dense.synced if dense is not None else 0,
        connection=flags,
        **_mode_fields(record),
        index_s=index_s,
        index_bytes=index_bytes,
        index_docs=index_docs,
        notes=notes,
        reembedded=reembedded,
    )


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
    from autoembedding.selector.swapping import swap_vectors
    from autoembedding.selector.swapping.model import resolve_model

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


def _clear_reembed_mark(client: Any, name: str | None) -> None:
    """Remove the mark of a hybrid's dense swap from ``name`` (the original, or its backup)."""
    col = get_or_none(client, name) if name else None
    meta = Journal.of(col).metadata
    if col is not None and meta.get(K_MODE_PHASE) == PHASE_REEMBED:
        write_metadata(col, meta, read_record(col), remove=(K_MODE_PHASE, K_MODE_TARGET))


def _serves(record: ModelRecord, target: ModeTarget) -> bool:
    """Whether ``record`` already serves ``target`` (same mode, tokenizer and fusion)."""
    if record.retrieval != target.retrieval:
        return False
    if target.retrieval == "dense":
        return True
    if target.tokenizer and record.tokenizer != target.tokenizer:
        return False
    if target.retrieval == "lexical":
        return True
    if target.fusion == "rrf":
        return record.fusion == "rrf" and record.rrf_k == target.rrf_k
    return record.fusion == "convex" and record.fusion_weight == target.fusion_weight


def _done_already(
    client: Any,
    live: Any,
    record: ModelRecord,
    target: ModeTarget,
    start: float,
    flags: str,
    dense: SwapResult | None,
) -> SwapResult:
    """Nothing to change; make sure the index is there and fresh (rebuilt with a warning)."""
    name = str(live.name)
    index_docs = None
    if record.retrieval != "dense":
        from autoembedding.retrieval.store import open_index

        index_docs = open_index(live, record.tokenizer, client=client).count
    with chroma_errors("count the records of", collection=name):
        docs = int(live.count())
    return SwapResult(
        name=name,
        record=record,
        backup=Journal.of(live).backup,
        docs=docs,
        embedded=0,
        resumed_from=0,
        seconds=time.perf_counter() - start,
        docs_per_s=0.0,
        verified_vectors=0,
        already_done=True,
        synced=dense.synced if dense is not None else 0,
        connection=flags,
        **_mode_fields(record),
        index_docs=index_docs,
    )


def _mode_fields(record: ModelRecord) -> dict[str, Any]:
    return {
        "retrieval": record.retrieval,
        "tokenizer": record.tokenizer,
        "fusion": record.fusion,
        "fusion_weight": record.fusion_weight,
        "mode_swap": True,
    }


def _notes(target: ModeTarget, record: ModelRecord) -> tuple[str, ...]:
    notes = []
    if record.retrieval != "dense" and not target.tokenizer:
        notes.append(
            f"The language was detected from the documents: {record.tokenizer!r} tokens "
            f"(force another with bm25:<lang>)."
        )
    if target.weight_from == "default":
        notes.append(
            f"The dense weight is the default {DEFAULT_WEIGHT:g}: pass --fusion-weight W "
            "(fusion_weight=W) with the weight the probe report shows for this hybrid, or "
            "swap with the probe's CandidateResult."
        )
    elif target.weight_from:
        notes.append(f"The dense weight {target.fusion_weight:g} is the {target.weight_from}'s.")
    return tuple(notes)


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def write_metadata(
    collection: Any,
    metadata: Mapping[str, Any],
    record: ModelRecord | None,
    changes: Mapping[str, Any] | None = None,
    *,
    remove: Iterable[str] = (),
) -> dict[str, Any]:
    """Write ``record`` into a collection's metadata, keeping the user's and the swap keys.

    Unlike :func:`~autoembedding.chroma.records.write_record`, the ``autoembedding:swap_*``
    keys (the backup a swap keeps, its sync baseline, the mode journal) survive.

    Returns:
        The metadata written.
    """
    gone = set(remove)
    kept = {k: v for k, v in metadata.items() if k.startswith(_SWAP_PREFIX) and k not in gone}
    new = {**user_metadata(metadata), **kept, **(record.to_metadata() if record else {})}
    new.update(changes or {})
    replace_metadata(collection, new, metadata)
    return new
